import { applyDiscount } from "./discounts.js";
import { subtotalCents } from "./pricing.js";

export function createCart() {
  return { lines: [], code: null };
}

export function addItem(cart, name, unitCents, quantity = 1) {
  cart.lines.push({ name, unitCents, quantity });
  return cart;
}

/** Codes are case-insensitive: " welcome5 " is WELCOME5. */
export function applyCode(cart, code) {
  cart.code = code.trim().toUpperCase();
  return cart;
}

export function totalCents(cart) {
  const subtotal = subtotalCents(cart.lines);
  return cart.code === null ? subtotal : applyDiscount(subtotal, cart.code);
}
