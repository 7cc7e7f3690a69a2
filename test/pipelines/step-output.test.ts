import { describe, expect, it } from "vitest";
import { stepOutputOf } from "../../src/pipelines/step-output.ts";

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
