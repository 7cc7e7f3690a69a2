/** Sum of price × quantity over the cart's lines, in cents. */
export function subtotalCents(lines) {
  return lines.reduce((sum, line) => sum + line.unitCents * line.quantity, 0);
}
