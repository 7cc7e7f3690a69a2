/** Discount codes customers can enter at checkout. */
export const DISCOUNTS = {
  WELCOME5: { kind: "fixed", cents: 500 },
};

/** The subtotal after the discount `code`, in cents. */
export function applyDiscount(subtotal, code) {
  const discount = DISCOUNTS[code];
  if (discount === undefined) return subtotal;
  return subtotal - discount.cents;
}
