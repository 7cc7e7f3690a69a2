import { test } from "node:test";
import assert from "node:assert/strict";
import { addItem, applyCode, createCart, totalCents } from "../src/cart.js";

test("SAVE10 takes 10% off, the discount rounded down", () => {
  assert.equal(totalCents(applyCode(addItem(createCart(), "Tea", 1999), "SAVE10")), 1800);
  assert.equal(totalCents(applyCode(addItem(createCart(), "Tea", 450, 2), "save10")), 810);
});

test("a fixed discount never makes the total negative", () => {
  assert.equal(totalCents(applyCode(addItem(createCart(), "Pen", 300), "WELCOME5")), 0);
});

test("unknown codes are rejected", () => {
  assert.throws(() => applyCode(createCart(), " nope "), { message: "Unknown discount code: NOPE" });
});
