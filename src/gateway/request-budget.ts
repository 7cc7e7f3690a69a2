/**
 * The budget math of one model request. Pure.
 *
 * Before a request is forwarded, its worst case is reserved: its prompt at an upper bound
 * plus the most output it may write, at its model's price. The reservation is taken whole
 * when the budget allows, or cut down to what is left (never below the prompt and a
 * minimal answer), and the request's output limit is clamped to what the reservation pays
 * for. After the answer, the reservation is replaced by the cost of the usage the provider
 * reported; without a report, the reservation is the charge.
 */
import { costInMicroUsd, type ModelPricing, type ModelTerms, type TokenCounts } from "./pricing.ts";

/**
 * Fewer output tokens than this are no use to an agent (a tool call does not fit): a
 * request that cannot pay for that many is refused rather than cut to a stub, which the
 * agent would only answer with another request.
 */
export const MIN_ANSWER_TOKENS = 1_000;

export interface RequestSize {
  /** An upper bound on the prompt's tokens (`prompt-tokens.ts`). */
  promptTokens: number;
  /** The output limit the request names; undefined when it names none. */
  maxOutputTokens: number | undefined;
  /** False for embeddings, which write nothing. */
  writesOutput: boolean;
}

export interface ReservationPlan {
  /** The worst case of the request as asked (its output limit within the model's). */
  wantedMicroUsd: number;
  /** The least reservation worth forwarding the request for: its prompt and a minimal answer. */
  minimumMicroUsd: number;
  /** The output limit `wantedMicroUsd` pays for. */
  outputTokens: number;
}

/** What the request sent to the provider and its answer came to, as far as the gateway saw. */
export interface AnswerFacts {
  /** False only when the provider could not be connected to: it never saw the request. */
  delivered: boolean;
  status: number | null;
  /** The answer reached its end, and the client took it all. */
  completed: boolean;
  /** The provider's final usage report was seen. */
  usageReported: boolean;
  usage: TokenCounts;
}

export interface Settlement extends TokenCounts {
  microUsd: number;
  /** Whether the request counts as forwarded (`gateway_tokens.requests`). */
  counted: boolean;
}

/** The cost of `tokens`, rounded up: never less than `costInMicroUsd` of the same tokens. */
export function worstCaseOf(tokens: TokenCounts, pricing: ModelPricing): number {
  return Math.ceil(nonNegative(tokens.tokensIn) * nonNegative(pricing.inputPerMillion) + nonNegative(tokens.tokensOut) * nonNegative(pricing.outputPerMillion));
}

export function planReservation(size: RequestSize, terms: ModelTerms): ReservationPlan {
  const outputTokens = size.writesOutput ? Math.min(size.maxOutputTokens ?? terms.maxOutputTokens, terms.maxOutputTokens) : 0;
  const minimalTokens = Math.min(MIN_ANSWER_TOKENS, outputTokens);
  return {
    wantedMicroUsd: worstCaseOf({ tokensIn: size.promptTokens, tokensOut: outputTokens }, terms.pricing),
    minimumMicroUsd: worstCaseOf({ tokensIn: size.promptTokens, tokensOut: minimalTokens }, terms.pricing),
    outputTokens,
  };
}

/**
 * The output limit to forward the request with: the most tokens, up to `wantedTokens`,
 * whose worst case together with the prompt fits in `reservedMicroUsd`.
 */
export function clampMaxTokens(reservedMicroUsd: number, promptTokens: number, wantedTokens: number, pricing: ModelPricing): number {
  if (nonNegative(pricing.outputPerMillion) === 0) return wantedTokens;
  const fits = (tokens: number) => worstCaseOf({ tokensIn: promptTokens, tokensOut: tokens }, pricing) <= reservedMicroUsd;
  // The largest count that fits, by bisection on the same rounded cost the reservation used:
  // a division lands off by the rounding (a price so small that the answer costs nothing
  // beyond the prompt's rounded cost would give none at all).
  let [low, high] = [0, Math.max(0, Math.floor(wantedTokens))];
  if (fits(high)) return high;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * What a forwarded request is charged. The reported usage when the answer ended with its
 * report; nothing when the provider refused it (providers bill no failed request) or never
 * saw it; otherwise, a client that left early or an answer without usage, the whole
 * reservation: the provider may have billed any of it.
 */
export function settlementOf(reservedMicroUsd: number, answer: AnswerFacts, pricing: ModelPricing): Settlement {
  const { tokensIn, tokensOut } = answer.usage;
  if (!answer.delivered) return { microUsd: 0, tokensIn: 0, tokensOut: 0, counted: false };
  if (answer.status !== null && (answer.status < 200 || answer.status > 299)) return { microUsd: 0, tokensIn, tokensOut, counted: true };
  if (answer.status !== null && answer.completed && answer.usageReported) return { microUsd: costInMicroUsd(answer.usage, pricing), tokensIn, tokensOut, counted: true };
  return { microUsd: reservedMicroUsd, tokensIn, tokensOut, counted: true };
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
