import { test } from "node:test";
import assert from "node:assert/strict";
import { renderInvoice } from "../src/invoice.js";

test("renders one line per item and the total", () => {
  const invoice = renderInvoice([
    { name: "Widget", unitCents: 250, quantity: 2 },
    { name: "Gadget", unitCents: 1999, quantity: 1 },
  ]);
  assert.equal(invoice, "Widget x2: $5.00\nGadget x1: $19.99\nTotal: $24.99");
});
