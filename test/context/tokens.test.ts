import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateBudget, estimateTokens, fitToTokens, TRUNCATION_MARKER_TOKENS, type BudgetPart } from "../../src/context/tokens.ts";
import { truncationMarker } from "../../src/context/truncate.ts";

const MARKER = /\[… (\d+) characters truncated …\]/;
const anyText = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: "grapheme", maxLength: 120 }), fc.lorem({ maxCount: 60 }));

describe("estimateTokens", () => {
  it("counts four characters a token, a whitespace run as one character, CJK one token each", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcd")).toBe(1);
    expect(estimateTokens("abcde")).toBe(2);
    expect(estimateTokens("ab      \n\n\t  cd")).toBe(2); // 5 characters once the run is one
    expect(estimateTokens("日本語のテキスト")).toBe(8);
    expect(estimateTokens("abcd日本")).toBe(3);
    expect(estimateTokens("𠀀𠀁")).toBe(2); // astral ideographs are one token each, not per code unit
  });

  it("never exceeds the length and grows when text is appended", () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        expect(estimateTokens(a)).toBeLessThanOrEqual(a.length);
        expect(estimateTokens(a + b)).toBeGreaterThanOrEqual(estimateTokens(a));
        // Splitting never makes text look cheaper than the whole (callers sum pieces as an upper bound).
        expect(estimateTokens(a) + estimateTokens(b)).toBeGreaterThanOrEqual(estimateTokens(a + b));
      }),
    );
  });
});

describe("fitToTokens", () => {
  it("returns text that fits unchanged and cuts the middle of text that does not", () => {
    expect(fitToTokens("short text", 10)).toBe("short text");
    const text = `${"head ".repeat(200)}${"tail ".repeat(200)}`;
    const out = fitToTokens(text, 100);
    expect(estimateTokens(out)).toBeLessThanOrEqual(100);
    expect(estimateTokens(out)).toBeGreaterThan(90); // the search does not give away much of the budget
    expect(out).toMatch(/^head /);
    expect(out).toMatch(/tail $/);
    expect(out).toMatch(MARKER);
  });

  it("gives the bare marker when the budget cannot hold one", () => {
    expect(fitToTokens("x".repeat(500), 3)).toBe(truncationMarker(500));
    expect(fitToTokens("x".repeat(500), Number.NaN)).toBe(truncationMarker(500));
  });

  it("stays within budget (or one marker) and marks every cut", () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: -2, max: 150 }), (text, maxTokens) => {
        fc.pre(!text.includes("characters truncated"));
        const out = fitToTokens(text, maxTokens);
        expect(estimateTokens(out)).toBeLessThanOrEqual(Math.max(maxTokens, estimateTokens(truncationMarker(text.length))));
        if (estimateTokens(text) <= Math.max(0, maxTokens)) expect(out).toBe(text);
        else expect(out).toMatch(MARKER);
      }),
      { numRuns: 500 },
    );
  });
});

describe("allocateBudget", () => {
  it("returns every part unchanged when they fit together", () => {
    const parts = [
      { name: "a", text: "x".repeat(40) },
      { name: "b", text: "y".repeat(40) },
    ];
    expect(allocateBudget(20, parts)).toEqual({ a: parts[0].text, b: parts[1].text });
    expect(allocateBudget(20, [])).toEqual({});
  });

  it("leaves a small part whole and gives its surplus to the large one", () => {
    const small = "s".repeat(40); // 10 tokens
    const large = "l".repeat(4000); // 1000 tokens
    const out = allocateBudget(200, [
      { name: "small", text: small },
      { name: "large", text: large },
    ]);
    expect(out.small).toBe(small);
    expect(estimateTokens(out.large)).toBeLessThanOrEqual(190);
    expect(estimateTokens(out.large)).toBeGreaterThan(180);
  });

  it("shares by weight after the minimums", () => {
    const text = "w".repeat(4000); // 1000 tokens each
    const out = allocateBudget(400, [
      { name: "map", text, weight: 3 },
      { name: "report", text, weight: 1 },
      { name: "errors", text, min: 100, weight: 0 },
    ]);
    expect(estimateTokens(out.map)).toBeGreaterThan(210);
    expect(estimateTokens(out.map)).toBeLessThanOrEqual(225);
    expect(estimateTokens(out.report)).toBeLessThanOrEqual(75);
    expect(estimateTokens(out.errors)).toBeLessThanOrEqual(100);
    expect(estimateTokens(out.errors)).toBeGreaterThan(90);
  });

  it("scales the minimums down when they alone exceed the total", () => {
    const text = "m".repeat(4000);
    const out = allocateBudget(100, [
      { name: "a", text, min: 150 },
      { name: "b", text, min: 50 },
    ]);
    expect(estimateTokens(out.a)).toBeLessThanOrEqual(75);
    expect(estimateTokens(out.a)).toBeGreaterThan(65);
    expect(estimateTokens(out.b)).toBeLessThanOrEqual(25);
  });

  it("fits the total within one marker per cut part and never cuts a part within its share", () => {
    const part = fc.record({
      text: fc.oneof(fc.string({ maxLength: 600 }), fc.lorem({ maxCount: 80 })),
      min: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
      weight: fc.option(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(Number.NaN)), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.array(part, { maxLength: 6 }), (total, drafts) => {
        const parts: BudgetPart[] = drafts.map((draft, index) => ({ name: `part${index}`, ...draft }));
        fc.pre(parts.every((p) => !p.text.includes("characters truncated")));
        const out = allocateBudget(total, parts);
        const cut = parts.filter((p) => out[p.name] !== p.text).length;
        const sum = parts.reduce((acc, p) => acc + estimateTokens(out[p.name]), 0);
        expect(sum).toBeLessThanOrEqual(total + cut * TRUNCATION_MARKER_TOKENS);

        const demand = parts.map((p) => estimateTokens(p.text));
        if (demand.reduce((a, b) => a + b, 0) <= total) expect(cut).toBe(0);
        const floors = parts.map((p, i) => Math.min(p.min ?? 0, demand[i]));
        const floorSum = floors.reduce((a, b) => a + b, 0);
        if (floorSum > total) return;
        const weights = parts.map((p) => (p.weight !== undefined && Number.isFinite(p.weight) && p.weight >= 0 ? p.weight : 1));
        const weightSum = weights.reduce((a, b) => a + b, 0);
        parts.forEach((p, i) => {
          const share = floors[i] + (weightSum === 0 ? 0 : ((total - floorSum) * weights[i]) / weightSum);
          if (demand[i] <= share) expect(out[p.name]).toBe(p.text);
          if (out[p.name] !== p.text) expect(out[p.name]).toMatch(MARKER);
        });
      }),
      { numRuns: 300 },
    );
  });
});
