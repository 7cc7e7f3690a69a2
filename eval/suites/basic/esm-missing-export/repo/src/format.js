/** Format an amount in cents as dollars, e.g. 123456 → "$1,234.56". */
export function formatCurrency(cents) {
  const sign = cents < 0 ? "-" : "";
  const [whole, fraction] = (Math.abs(cents) / 100).toFixed(2).split(".");
  return `${sign}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${fraction}`;
}
