/**
 * Budget arithmetic for a job's model usage. Costs are sums of many small per-message
 * amounts (fractions of a cent), which binary floating point cannot add exactly: 0.1 +
 * 0.2 !== 0.3. We therefore add and compare in integer micro-dollars (a millionth of a
 * dollar, far below any per-message price), exact up to about nine billion dollars, and
 * convert back to dollars only for the result.
 *
 * Usage numbers come from model replies we do not control: NaN, infinite and negative
 * values count as zero rather than poisoning every later sum.
 */

/** Model usage: cost in US dollars, tokens read and written. */
export interface Usage {
  cost: number;
  tokensIn: number;
  tokensOut: number;
}

export interface BudgetCheck {
  /** True once spending has passed the limit (spending exactly the limit is still within it). */
  exceeded: boolean;
  /** Dollars left before the limit; 0 once exceeded, never negative. */
  remainingUsd: number;
}

const MICROS_PER_USD = 1_000_000;

/** Whether `spentUsd` has passed `limitUsd`, compared to the micro-dollar. */
export function checkBudget({ spentUsd, limitUsd }: { spentUsd: number; limitUsd: number }): BudgetCheck {
  const spent = microsOf(spentUsd);
  const limit = microsOf(limitUsd);
  return { exceeded: spent > limit, remainingUsd: usdOf(Math.max(0, limit - spent)) };
}

/** The total of several usages. */
export function sumUsage(parts: readonly Usage[]): Usage {
  let micros = 0;
  let tokensIn = 0;
  let tokensOut = 0;
  for (const part of parts) {
    micros += microsOf(part.cost);
    tokensIn += countOf(part.tokensIn);
    tokensOut += countOf(part.tokensOut);
  }
  return { cost: usdOf(micros), tokensIn, tokensOut };
}

/** A new per-phase record with `usage` added to `phase`; the input is not changed. */
export function addPhaseUsage(byPhase: Readonly<Record<string, Usage>>, phase: string, usage: Usage): Record<string, Usage> {
  const before = Object.hasOwn(byPhase, phase) ? byPhase[phase] : { cost: 0, tokensIn: 0, tokensOut: 0 };
  // fromEntries defines own properties, so a phase named `__proto__` is just a key.
  return Object.fromEntries([...Object.entries(byPhase), [phase, sumUsage([before, usage])]]);
}

/**
 * Dollars for people: cents from one dollar up (`$1,234.50`), four decimals below it
 * (`$0.0420`) so that cheap runs do not all read `$0.00`. NaN and negatives read `$0.00`.
 */
export function formatUsd(n: number): string {
  // Rounded in integers, so that 0.99999 reads $1.00 rather than $1.0000.
  const micros = microsOf(n);
  const tenThousandths = Math.round(micros / 100);
  if (micros === 0) return "$0.00";
  if (tenThousandths === 0) return "<$0.0001";
  if (tenThousandths < 10_000) return `$0.${String(tenThousandths).padStart(4, "0")}`;
  const cents = Math.round(micros / 10_000);
  const dollars = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+$)/g, ",");
  return `$${dollars}.${String(cents % 100).padStart(2, "0")}`;
}

/** Dollars as whole micro-dollars; NaN, infinite and negative amounts count as zero. */
export function microsOf(usd: number): number {
  return Number.isFinite(usd) && usd > 0 ? Math.round(usd * MICROS_PER_USD) : 0;
}

export function usdOf(micros: number): number {
  return micros / MICROS_PER_USD;
}

function countOf(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
