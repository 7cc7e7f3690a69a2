import { test } from "node:test";
import assert from "node:assert/strict";
import { addItem, applyCode, createCart, totalCents } from "../src/cart.js";

test("totals the lines", () => {
  const cart = addItem(addItem(createCart(), "Tea", 450, 2), "Mug", 1200);
  assert.equal(totalCents(cart), 2100);
});

test("WELCOME5 takes five dollars off", () => {
  const cart = applyCode(addItem(createCart(), "Mug", 1200), " welcome5 ");
  assert.equal(totalCents(cart), 700);
});
