import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { errorSimilarity, isRepeatedFailure, normalizeErrorText } from "../../src/verify/error-similarity.ts";

const hexChar = fc.constantFrom(..."0123456789abcdefABCDEF");
const hexId = fc
  .array(hexChar, { minLength: 7, maxLength: 40 })
  .map((chars) => chars.join(""))
  .filter((hex) => /\d/.test(hex) || hex.length >= 12);
const segment = fc.stringMatching(/^[a-z0-9_.-]{1,8}$/).filter((s) => s !== "." && s !== "..");
const path = fc.oneof(
  fc.tuple(fc.constantFrom("/", "./", "../", "~/", "", "file:///"), fc.array(segment, { minLength: 2, maxLength: 6 })).map(([prefix, parts]) => `${prefix}${parts.join("/")}`),
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `C:\\Users\\${parts.join("\\")}`),
  fc.stringMatching(/^[a-z0-9]{6}$/).map((suffix) => `/tmp/pytest-of-root/pytest-3/test_${suffix}0/config.toml`),
);
const number = fc.oneof(fc.nat().map(String), fc.double({ min: 0, max: 1e6, noNaN: true }).map((n) => n.toFixed(3)));
const timestamp = fc.date({ min: new Date("1970-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((date) => date.toISOString());
const duration = fc.oneof(
  fc.nat(100_000).map((n) => `${n}ms`),
  fc.double({ min: 0, max: 100, noNaN: true }).map((n) => `${n.toFixed(2)}s`),
  fc.nat(500).map((n) => `${n} ms`),
);
const address = fc.array(hexChar, { minLength: 1, maxLength: 16 }).map((chars) => `0x${chars.join("")}`);
const tempName = fc.stringMatching(/^[a-z0-9]{3,10}$/).map((suffix) => `tmp-${suffix}`);

/** An error text with every incidental value in a slot. */
const slots = fc.record({
  path,
  line: fc.nat(99_999),
  column: fc.nat(300),
  number,
  timestamp,
  duration,
  hex: hexId,
  uuid: fc.uuid(),
  address,
  temp: tempName,
});
type Slots = typeof slots extends fc.Arbitrary<infer T> ? T : never;
function errorText(s: Slots): string {
  return [
    `FAIL ${s.path} > parses the config`,
    `AssertionError: expected ${s.number} to be 42 in ${s.temp}`,
    `  at Object.<anonymous> (${s.path}:${s.line}:${s.column})`,
    `commit ${s.hex} request ${s.uuid} at ${s.timestamp} took ${s.duration} object at ${s.address}`,
  ].join("\n");
}

describe("normalizeErrorText", () => {
  it("replaces paths, numbers, ids, times and addresses, lowercases and collapses whitespace", () => {
    expect(normalizeErrorText("  Error at /home/user/repo/src/a.ts:12:5\n\n  took 12ms ")).toBe("error at <path> :<num>:<num> took <duration>");
    expect(normalizeErrorText("src/a.ts(12,5): error TS2322: Type 'string'")).toBe("<path> (<num>,<num>): error ts<num>: type 'string'");
    expect(normalizeErrorText("at 2024-01-02T10:20:30.123Z, 10:20:31 and 1.2s")).toBe("at <time> , <time> and <duration>");
    expect(normalizeErrorText("object 0x7ffd1234 commit a1b2c3d4 id 3f2a1b4c-1234-4abc-8def-0123456789ab")).toBe("object <addr> commit <num> id <uuid>");
    expect(normalizeErrorText("in tmp-abc123 or pytest-of-root")).toBe("in <tmp> or <tmp>");
  });

  it("keeps words that merely look like hex and words that start like temp", () => {
    expect(normalizeErrorText("defaced template facade")).toBe("defaced template facade");
  });
});

describe("errorSimilarity", () => {
  it("scores the same failure from two runs as alike and different failures as not", () => {
    const run1 = "FAIL test/math.test.ts > add\nAssertionError: expected 6 to be 5\n ❯ test/math.test.ts:6:23 (4ms)";
    const run2 = "FAIL test/math.test.ts > add\nAssertionError: expected 7 to be 5\n ❯ test/math.test.ts:7:23 (11ms)";
    const other = "src/index.ts(12,3): error TS2322: Type 'number' is not assignable to type 'string'.";
    expect(errorSimilarity(run1, run2)).toBe(1);
    expect(errorSimilarity(run1, other)).toBeLessThan(0.1);
  });

  it("is 1 for identical text, symmetric and within [0, 1]", () => {
    const text = fc.oneof(fc.string({ maxLength: 200 }), fc.lorem({ maxCount: 30 }), slots.map(errorText));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const ab = errorSimilarity(a, b);
        expect(ab).toBe(errorSimilarity(b, a));
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(1);
        expect(errorSimilarity(a, a)).toBe(1);
      }),
    );
  });

  it("ignores changes to numbers, paths, timestamps, durations, hex ids, UUIDs, addresses and temp names", () => {
    fc.assert(
      fc.property(slots, slots, (first, second) => {
        expect(normalizeErrorText(errorText(first))).toBe(normalizeErrorText(errorText(second)));
        expect(errorSimilarity(errorText(first), errorText(second))).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it("scores texts made of unrelated words as 0", () => {
    // Disjoint alphabets, and neither can spell a hex id, a unit or "tmp".
    const wordsFrom = (alphabet: string) =>
      fc
        .array(fc.stringMatching(new RegExp(`^[${alphabet}]{1,8}$`)), { minLength: 1, maxLength: 30 })
        .map((words) => words.join(" "));
    fc.assert(
      fc.property(wordsFrom("g-m"), wordsFrom("n-z"), (a, b) => {
        expect(errorSimilarity(a, b)).toBe(0);
      }),
    );
  });
});

describe("isRepeatedFailure", () => {
  const failure = "AssertionError: expected 6 to be 5 at src/a.ts:3:1";
  const sameAgain = "AssertionError: expected 9 to be 5 at src/a.ts:4:1";
  const different = "TypeError: cart.total is not a function";

  it("compares the last two failures against the threshold", () => {
    expect(isRepeatedFailure([], 0.8)).toBe(false);
    expect(isRepeatedFailure([failure], 0.8)).toBe(false);
    expect(isRepeatedFailure([failure, sameAgain], 0.8)).toBe(true);
    expect(isRepeatedFailure([failure, different], 0.8)).toBe(false);
    expect(isRepeatedFailure([failure, sameAgain, different], 0.8)).toBe(false);
    expect(isRepeatedFailure([different, failure, sameAgain], 0.8)).toBe(true);
  });

  it("agrees with errorSimilarity of the last two entries", () => {
    fc.assert(
      fc.property(fc.array(fc.lorem({ maxCount: 8 }), { minLength: 2, maxLength: 5 }), fc.double({ min: 0, max: 1, noNaN: true }), (history, threshold) => {
        expect(isRepeatedFailure(history, threshold)).toBe(errorSimilarity(history.at(-2)!, history.at(-1)!) >= threshold);
      }),
    );
  });
});
