import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { truncateMiddle, truncationMarker } from "../../src/context/truncate.ts";

const MARKER = /\[… (\d+) characters truncated …\]/;

describe("truncateMiddle", () => {
  it("returns text that fits unchanged", () => {
    expect(truncateMiddle("short", 5)).toBe("short");
    expect(truncateMiddle("", 0)).toBe("");
  });

  it("keeps the start and the end around a marker that counts what was cut", () => {
    const text = `${"a".repeat(100)}${"b".repeat(100)}`;
    const out = truncateMiddle(text, 80);
    expect(out.length).toBeLessThanOrEqual(80);
    const [head, marker, tail] = out.split("\n");
    expect(head).toMatch(/^a+$/);
    expect(tail).toMatch(/^b+$/);
    expect(marker).toBe(truncationMarker(text.length - head.length - tail.length));
  });

  it("gives the bare marker when the budget cannot hold more", () => {
    expect(truncateMiddle("x".repeat(50), 10)).toBe(truncationMarker(50));
    expect(truncateMiddle("xy", Number.NaN)).toBe(truncationMarker(2));
    expect(truncateMiddle("xy", -3)).toBe(truncationMarker(2));
  });

  it("does not split surrogate pairs", () => {
    const out = truncateMiddle("😀".repeat(60), 61);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    const cut = Number(MARKER.exec(out)?.[1]);
    expect(out.length - truncationMarker(cut).length - 2 + cut).toBe(120);
  });

  it("stays within budget, marks iff cut, and accounts for every character", () => {
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: "grapheme", maxLength: 100 }));
    fc.assert(
      fc.property(text, fc.integer({ min: -5, max: 400 }), (input, maxChars) => {
        fc.pre(!input.includes("characters truncated"));
        const out = truncateMiddle(input, maxChars);
        expect(out.length).toBeLessThanOrEqual(Math.max(maxChars, truncationMarker(input.length).length));
        const marker = MARKER.exec(out);
        expect(marker !== null).toBe(input.length > Math.max(0, maxChars));
        if (marker === null) {
          expect(out).toBe(input);
          return;
        }
        if (out === marker[0]) {
          expect(Number(marker[1])).toBe(input.length);
          return;
        }
        const [head, tail] = out.split(`\n${marker[0]}\n`);
        expect(input.startsWith(head) && input.endsWith(tail)).toBe(true);
        expect(head.length + Number(marker[1]) + tail.length).toBe(input.length);
      }),
      { numRuns: 1000 },
    );
  });
});
