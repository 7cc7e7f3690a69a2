/**
 * What a model request costs, in integer micro-dollars (the unit `src/jobs/budget.ts`
 * adds and compares in). Pure.
 *
 * A price per million tokens in dollars is a price per token in micro-dollars, so a
 * request's cost is `tokensIn × inputPerMillion + tokensOut × outputPerMillion`, rounded
 * once per request: the sum of many requests is then a sum of integers, exact.
 */

/** US dollars per million tokens, as providers publish them. */
export interface ModelPricing {
  inputPerMillion: number;
  outputPerMillion: number;
}

export interface TokenCounts {
  tokensIn: number;
  tokensOut: number;
}

/** Without pricing (a self-hosted model) a request costs nothing; its tokens are still counted. */
export function costInMicroUsd(tokens: TokenCounts, pricing: ModelPricing | undefined): number {
  if (!pricing) return 0;
  return Math.round(nonNegative(tokens.tokensIn) * nonNegative(pricing.inputPerMillion) + nonNegative(tokens.tokensOut) * nonNegative(pricing.outputPerMillion));
}


function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
