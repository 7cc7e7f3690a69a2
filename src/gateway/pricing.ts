/**
 * What a model request costs, in integer micro-dollars (the unit `src/budget.ts`
 * adds and compares in), and which models a provider may be asked for. Pure.
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
  /** Of `tokensIn`, those written to Anthropic's prompt cache, which cost a quarter more than plain input. */
  cacheWriteTokens?: number;
}

/** Anthropic bills a (five-minute) cache write at 1.25 times the input price. */
export const CACHE_WRITE_SURCHARGE = 0.25;

/** One model a provider may be asked for, as the operator listed it. */
export interface GatewayModel {
  pricing?: ModelPricing;
  maxOutputTokens?: number;
}

/** What the gateway holds a request to: the model's price and the most it may write. */
export interface ModelTerms {
  pricing: ModelPricing;
  maxOutputTokens: number;
}

/** opencode asks for at most this many output tokens too; a model that writes fewer should say so in its entry. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 32_000;

const FREE: ModelPricing = { inputPerMillion: 0, outputPerMillion: 0 };

/**
 * The terms of `model` on a provider; null when the provider does not list it. One price
 * per provider let a job switch to a far dearer model at the cheap one's price, so every
 * model is listed, with its own price or the provider's.
 */
export function modelTermsOf(provider: { models: Readonly<Record<string, GatewayModel>>; pricing?: ModelPricing }, model: string): ModelTerms | null {
  // Own keys only: "constructor" or "__proto__" is not a listed model.
  if (!Object.hasOwn(provider.models, model)) return null;
  const entry = provider.models[model]!;
  return { pricing: entry.pricing ?? provider.pricing ?? FREE, maxOutputTokens: entry.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS };
}

/** Without pricing (a self-hosted model) a request costs nothing; its tokens are still counted. */
export function costInMicroUsd(tokens: TokenCounts, pricing: ModelPricing | undefined): number {
  if (!pricing) return 0;
  const input = nonNegative(tokens.tokensIn) + CACHE_WRITE_SURCHARGE * Math.min(nonNegative(tokens.cacheWriteTokens ?? 0), nonNegative(tokens.tokensIn));
  return Math.round(input * nonNegative(pricing.inputPerMillion) + nonNegative(tokens.tokensOut) * nonNegative(pricing.outputPerMillion));
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
