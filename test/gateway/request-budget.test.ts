import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { costInMicroUsd, DEFAULT_MAX_OUTPUT_TOKENS, modelTermsOf, type ModelTerms } from "../../src/gateway/pricing.ts";
import { clampMaxTokens, MIN_ANSWER_TOKENS, planReservation, settlementOf, worstCaseOf, type AnswerFacts } from "../../src/gateway/request-budget.ts";

const sonnet: ModelTerms = { pricing: { inputPerMillion: 3, outputPerMillion: 15 }, maxOutputTokens: 64_000 };
const price = fc.record({ inputPerMillion: fc.double({ min: 0, max: 200, noNaN: true }), outputPerMillion: fc.double({ min: 0, max: 600, noNaN: true }) });
const terms = fc.record({ pricing: price, maxOutputTokens: fc.integer({ min: 1, max: 200_000 }) });
const size = fc.record({
  promptTokens: fc.nat(2_000_000),
  maxOutputTokens: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
  writesOutput: fc.boolean(),
});

describe("the worst case of a request", () => {
  it("asks for the output the request names, but never past the model's limit, and none for embeddings", () => {
    const prompt = { promptTokens: 10_000, writesOutput: true };
    expect(planReservation({ ...prompt, maxOutputTokens: 4_000 }, sonnet)).toEqual({ outputTokens: 4_000, wantedMicroUsd: 30_000 + 60_000, minimumMicroUsd: 30_000 + 15_000 });
    // The attack: a huge max_tokens. It is held to the model's own limit before the budget has its say.
    expect(planReservation({ ...prompt, maxOutputTokens: 10_000_000 }, sonnet)).toMatchObject({ outputTokens: 64_000, wantedMicroUsd: 30_000 + 960_000 });
    expect(planReservation({ ...prompt, maxOutputTokens: undefined }, sonnet).outputTokens).toBe(64_000);
    expect(planReservation({ ...prompt, maxOutputTokens: 200 }, sonnet)).toMatchObject({ outputTokens: 200, minimumMicroUsd: 30_000 + 3_000 });
    expect(planReservation({ promptTokens: 10_000, maxOutputTokens: undefined, writesOutput: false }, sonnet)).toEqual({ outputTokens: 0, wantedMicroUsd: 30_000, minimumMicroUsd: 30_000 });
  });

  it("is never less than what the provider can bill for a prompt and an answer within it", () => {
    fc.assert(
      fc.property(size, terms, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (request, model, inShare, outShare) => {
        const plan = planReservation(request, model);
        const used = { tokensIn: Math.floor(request.promptTokens * inShare), tokensOut: Math.floor(plan.outputTokens * outShare) };
        expect(costInMicroUsd(used, model.pricing)).toBeLessThanOrEqual(plan.wantedMicroUsd);
        expect(plan.minimumMicroUsd).toBeLessThanOrEqual(plan.wantedMicroUsd);
        expect(plan.outputTokens).toBeLessThanOrEqual(model.maxOutputTokens);
      }),
    );
  });
});

describe("clampMaxTokens", () => {
  it("cuts the output limit to what the reservation pays for", () => {
    // $0.05 reserved, a 10,000-token prompt at $3/M is $0.03: $0.02 left at $15/M is 1,333 tokens.
    expect(clampMaxTokens(50_000, 10_000, 64_000, sonnet.pricing)).toBe(1_333);
    expect(clampMaxTokens(990_000, 10_000, 64_000, sonnet.pricing)).toBe(64_000);
    expect(clampMaxTokens(1_000, 0, 64_000, { inputPerMillion: 1, outputPerMillion: 0 })).toBe(64_000);
    expect(clampMaxTokens(0, 10_000, 64_000, sonnet.pricing)).toBe(0);
    // An output price too small to move the rounded cost: every token the model allows fits.
    expect(clampMaxTokens(200, 1, 1, { inputPerMillion: 200, outputPerMillion: 5e-324 })).toBe(1);
  });

  it("never lets the output limit cost more than the reservation, nor fall below a minimal answer once the minimum is reserved", () => {
    fc.assert(
      fc.property(size, terms, fc.double({ min: 0, max: 1, noNaN: true }), (request, model, share) => {
        const plan = planReservation(request, model);
        const reserved = Math.round(plan.minimumMicroUsd + (plan.wantedMicroUsd - plan.minimumMicroUsd) * share);
        const tokens = clampMaxTokens(reserved, request.promptTokens, plan.outputTokens, model.pricing);
        expect(worstCaseOf({ tokensIn: request.promptTokens, tokensOut: tokens }, model.pricing)).toBeLessThanOrEqual(reserved);
        expect(tokens).toBeLessThanOrEqual(plan.outputTokens);
        expect(tokens).toBeGreaterThanOrEqual(Math.min(MIN_ANSWER_TOKENS, plan.outputTokens));
        if (reserved === plan.wantedMicroUsd) expect(tokens).toBe(plan.outputTokens);
      }),
    );
  });
});

describe("settlementOf", () => {
  const answered: AnswerFacts = { delivered: true, status: 200, completed: true, usageReported: true, usage: { tokensIn: 1_000, tokensOut: 100 } };

  it("charges the reported usage of a complete answer, even past the reservation", () => {
    expect(settlementOf(90_000, answered, sonnet.pricing)).toEqual({ microUsd: 4_500, tokensIn: 1_000, tokensOut: 100, counted: true });
    expect(settlementOf(1_000, answered, sonnet.pricing).microUsd).toBe(4_500);
  });

  it("keeps the whole reservation when the client left early or no usage came", () => {
    expect(settlementOf(90_000, { ...answered, completed: false }, sonnet.pricing)).toEqual({ microUsd: 90_000, tokensIn: 1_000, tokensOut: 100, counted: true });
    expect(settlementOf(90_000, { ...answered, usageReported: false }, sonnet.pricing).microUsd).toBe(90_000);
    // Gone before the provider answered at all: it may have started on the request.
    expect(settlementOf(90_000, { ...answered, status: null, completed: false, usageReported: false }, sonnet.pricing).microUsd).toBe(90_000);
  });

  it("releases the reservation of a request the provider refused or never saw", () => {
    expect(settlementOf(90_000, { ...answered, status: 503, usageReported: false, usage: { tokensIn: 0, tokensOut: 0 } }, sonnet.pricing)).toEqual({ microUsd: 0, tokensIn: 0, tokensOut: 0, counted: true });
    expect(settlementOf(90_000, { delivered: false, status: null, completed: false, usageReported: false, usage: { tokensIn: 0, tokensOut: 0 } }, sonnet.pricing)).toEqual({ microUsd: 0, tokensIn: 0, tokensOut: 0, counted: false });
  });
});

describe("modelTermsOf", () => {
  const provider = {
    pricing: { inputPerMillion: 0.25, outputPerMillion: 2 },
    models: { "gpt-5-mini": {}, "gpt-5": { pricing: { inputPerMillion: 1.25, outputPerMillion: 10 }, maxOutputTokens: 128_000 } },
  };

  it("prices each listed model on its own, the provider's price the default", () => {
    expect(modelTermsOf(provider, "gpt-5")).toEqual({ pricing: { inputPerMillion: 1.25, outputPerMillion: 10 }, maxOutputTokens: 128_000 });
    expect(modelTermsOf(provider, "gpt-5-mini")).toEqual({ pricing: provider.pricing, maxOutputTokens: DEFAULT_MAX_OUTPUT_TOKENS });
    expect(modelTermsOf({ models: { local: {} } }, "local")).toEqual({ pricing: { inputPerMillion: 0, outputPerMillion: 0 }, maxOutputTokens: DEFAULT_MAX_OUTPUT_TOKENS });
  });

  it("knows no model the operator did not list, whatever its name", () => {
    for (const model of ["o3-pro", "GPT-5", "gpt-5 ", "constructor", "__proto__", "toString", ""]) expect(modelTermsOf(provider, model), model).toBeNull();
  });
});
