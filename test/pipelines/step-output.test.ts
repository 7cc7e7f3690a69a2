import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fencedBlocksOf, stepOutputOf } from "../../src/pipelines/step-output.ts";
import { expectLinearTime } from "../support/linear-time.ts";

describe("a step's output", () => {
  it("is the last fenced JSON object of the reply", () => {
    const reply = 'Ran the tests.\n```json\n{"failures": 1}\n```\nThen fixed one.\n```json\n{"failures": 0, "fixed": ["a.test.ts"]}\n```\n';
    expect(stepOutputOf(reply)).toEqual({ failures: 0, fixed: ["a.test.ts"] });
  });

  it("is a bare JSON object at the end of the reply", () => {
    expect(stepOutputOf('All green.\n{\n  "failures": 0\n}')).toEqual({ failures: 0 });
    expect(stepOutputOf('{"only": true}')).toEqual({ only: true });
  });

  it("is nothing when the reply ends with no JSON object", () => {
    expect(stepOutputOf("Done, nothing to report.")).toBeNull();
    expect(stepOutputOf("```json\n[1, 2]\n```")).toBeNull();
    expect(stepOutputOf("```json\n{broken\n```")).toBeNull();
    expect(stepOutputOf("")).toBeNull();
  });
});

describe("reading a step's output from a hostile reply", () => {
  // The pattern this reading replaced, as the reference for what a fenced block is: it took
  // seconds on ```json and a few KB of blank lines, so it only ever sees short inputs here.
  const fencedByPattern = (text: string) => [...text.matchAll(/```(?:json)?\s*\n([\s\S]*?)\n\s*```/g)].map((match) => match[1]!);
  const piece = fc.constantFrom("`", "```", "```json", "json", "\n", " ", "\t", "\u2028", "x", "{", "}", "\n```", "\n\n");

  it("finds the fenced blocks the pattern found", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join("");
        expect(fencedBlocksOf(text)).toEqual(fencedByPattern(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ["```json and blank lines", "```json", "\n"],
    ["```json and blanks", "```json\n", " \n"],
    ["opening fences that never close", "", "```\nx"],
    ["empty blocks", "", "```json\n\n```\n"],
    ["bare objects that never close", "", "\n{"],
  ])("takes time linear in the reply: %s", (_, prefix, unit) => {
    expectLinearTime(stepOutputOf, (chars) => prefix + unit.repeat(Math.ceil((chars - prefix.length) / unit.length)));
  });
});
