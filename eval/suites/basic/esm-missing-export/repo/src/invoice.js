import { formatPrice } from "./format.js";

/** One line per item, e.g. "Widget x2: $5.00", then the total. */
export function renderInvoice(items) {
  const lines = items.map((item) => `${item.name} x${item.quantity}: ${formatPrice(item.unitCents * item.quantity)}`);
  const total = items.reduce((sum, item) => sum + item.unitCents * item.quantity, 0);
  return [...lines, `Total: ${formatPrice(total)}`].join("\n");
}
