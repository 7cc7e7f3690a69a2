import { test } from "node:test";
import assert from "node:assert/strict";
import { formatCurrency } from "../src/format.js";
import { renderInvoice } from "../src/invoice.js";

test("formats thousands and totals", () => {
  const invoice = renderInvoice([{ name: "Server", unitCents: 123456, quantity: 3 }]);
  assert.equal(invoice, "Server x3: $3,703.68\nTotal: $3,703.68");
});

test("an empty invoice totals zero", () => {
  assert.equal(renderInvoice([]), "Total: $0.00");
});

test("formatCurrency is still exported", () => {
  assert.equal(formatCurrency(-5), "-$0.05");
});
