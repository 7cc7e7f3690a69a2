import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addPhaseUsage, checkBudget, formatUsd, sumUsage, type Usage } from "../src/budget.ts";

const cost = fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.integer({ min: 0, max: 200_000 }).map((micros) => micros / 1_000_000));
const usage = fc.record({ cost, tokensIn: fc.nat(1_000_000), tokensOut: fc.nat(1_000_000) });
const junk = fc.constantFrom(Number.NaN, -1, -0.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);

describe("checkBudget", () => {
  it("passes the limit only when spending is above it", () => {
    expect(checkBudget({ spentUsd: 0.5, limitUsd: 1 })).toEqual({ exceeded: false, remainingUsd: 0.5 });
    expect(checkBudget({ spentUsd: 1, limitUsd: 1 })).toEqual({ exceeded: false, remainingUsd: 0 });
    expect(checkBudget({ spentUsd: 1.25, limitUsd: 1 })).toEqual({ exceeded: true, remainingUsd: 0 });
  });

  it("does not let floating point error decide: ten 0.1s are exactly a dollar", () => {
    const spent = Array.from({ length: 10 }, () => 0.1).reduce((a, b) => a + b, 0);
    expect(spent).not.toBe(1); // 0.9999999999999999 in plain floats
    expect(0.1 + 0.2 > 0.3).toBe(true); // and a plain comparison would call this over budget
    expect(checkBudget({ spentUsd: 0.1 + 0.2, limitUsd: 0.3 }).exceeded).toBe(false);
    expect(checkBudget({ spentUsd: sumUsage(Array.from({ length: 10 }, () => ({ cost: 0.1, tokensIn: 0, tokensOut: 0 }))).cost, limitUsd: 1 }).exceeded).toBe(false);
    expect(sumUsage([{ cost: 0.1, tokensIn: 0, tokensOut: 0 }, { cost: 0.2, tokensIn: 0, tokensOut: 0 }]).cost).toBe(0.3);
  });

  it("reads NaN and negative amounts as zero", () => {
    expect(checkBudget({ spentUsd: Number.NaN, limitUsd: 2 })).toEqual({ exceeded: false, remainingUsd: 2 });
    expect(checkBudget({ spentUsd: 0.01, limitUsd: -1 })).toEqual({ exceeded: true, remainingUsd: 0 });
  });

  it("agrees with exact micro-dollar arithmetic and never reports a negative remainder", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (spentMicros, limitMicros) => {
        const result = checkBudget({ spentUsd: spentMicros / 1e6, limitUsd: limitMicros / 1e6 });
        expect(result.exceeded).toBe(spentMicros > limitMicros);
        expect(result.remainingUsd).toBe(Math.max(0, limitMicros - spentMicros) / 1e6);
      }),
    );
  });
});

describe("sumUsage", () => {
  it("adds costs and tokens, skipping junk values", () => {
    expect(sumUsage([])).toEqual({ cost: 0, tokensIn: 0, tokensOut: 0 });
    expect(
      sumUsage([
        { cost: 0.0123, tokensIn: 1000, tokensOut: 200 },
        { cost: Number.NaN, tokensIn: -5, tokensOut: Number.POSITIVE_INFINITY },
        { cost: 0.0077, tokensIn: 500, tokensOut: 100 },
      ]),
    ).toEqual({ cost: 0.02, tokensIn: 1500, tokensOut: 300 });
  });

  it("does not depend on order or grouping, and junk changes nothing", () => {
    fc.assert(
      fc.property(fc.array(usage, { maxLength: 40 }), junk, (parts, bad) => {
        const total = sumUsage(parts);
        expect(sumUsage([...parts].reverse())).toEqual(total);
        const half = Math.floor(parts.length / 2);
        expect(sumUsage([sumUsage(parts.slice(0, half)), sumUsage(parts.slice(half))])).toEqual(total);
        expect(sumUsage([...parts, { cost: bad, tokensIn: bad, tokensOut: bad }])).toEqual(total);
        expect(Math.abs(total.cost - parts.reduce((sum, part) => sum + part.cost, 0))).toBeLessThanOrEqual(parts.length * 5e-7 + 1e-9);
        expect(total.tokensIn).toBe(parts.reduce((sum, part) => sum + part.tokensIn, 0));
      }),
    );
  });
});

describe("addPhaseUsage", () => {
  it("adds to one phase and leaves the input as it was", () => {
    const before: Record<string, Usage> = Object.freeze({ plan: { cost: 0.01, tokensIn: 10, tokensOut: 5 } });
    const after = addPhaseUsage(before, "plan", { cost: 0.02, tokensIn: 1, tokensOut: 1 });
    expect(after).toEqual({ plan: { cost: 0.03, tokensIn: 11, tokensOut: 6 } });
    expect(before).toEqual({ plan: { cost: 0.01, tokensIn: 10, tokensOut: 5 } });
    expect(addPhaseUsage(after, "build", { cost: 1, tokensIn: 2, tokensOut: 3 })).toEqual({ ...after, build: { cost: 1, tokensIn: 2, tokensOut: 3 } });
  });

  it("treats inherited property names as ordinary phases", () => {
    const out = addPhaseUsage({}, "__proto__", { cost: 1, tokensIn: 1, tokensOut: 1 });
    expect(Object.keys(out)).toEqual(["__proto__"]);
    expect(addPhaseUsage({}, "toString", { cost: 1, tokensIn: 1, tokensOut: 1 }).toString).toEqual({ cost: 1, tokensIn: 1, tokensOut: 1 });
  });

  it("keeps the per-phase totals summing to the job's total", () => {
    const entry = fc.tuple(fc.constantFrom("explore", "plan", "build", "verify"), usage);
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), (entries) => {
        const byPhase = entries.reduce<Record<string, Usage>>((acc, [phase, u]) => addPhaseUsage(acc, phase, u), {});
        expect(sumUsage(Object.values(byPhase))).toEqual(sumUsage(entries.map(([, u]) => u)));
      }),
    );
  });
});

describe("formatUsd", () => {
  it("shows cents from a dollar up and four decimals below", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(Number.NaN)).toBe("$0.00");
    expect(formatUsd(-3)).toBe("$0.00");
    expect(formatUsd(0.00004)).toBe("<$0.0001");
    expect(formatUsd(0.042)).toBe("$0.0420");
    expect(formatUsd(1)).toBe("$1.00");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatUsd(1234567.891)).toBe("$1,234,567.89");
  });

  it("always reads as a dollar amount", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), (n) => {
        expect(formatUsd(n)).toMatch(/^(?:<?\$0\.\d{2,4}|\$[1-9]\d{0,2}(?:,\d{3})*\.\d{2})$/);
      }),
    );
  });
});
