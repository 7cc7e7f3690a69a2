import { describe, expect, it } from "vitest";
import { inputKeysOf, parseTemplate } from "../../src/config/parse-template.ts";

describe("parseTemplate", () => {
  it("splits a task into text, inputs and step outputs", () => {
    expect(parseTemplate("Summarize {{steps.test.output.failures}} for {{inputs.target}}.")).toEqual([
      { kind: "text", text: "Summarize " },
      { kind: "output", step: "test", key: "failures", source: "{{steps.test.output.failures}}" },
      { kind: "text", text: " for " },
      { kind: "input", key: "target", source: "{{inputs.target}}" },
      { kind: "text", text: "." },
    ]);
    expect(parseTemplate("")).toEqual([]);
    expect(parseTemplate("no expressions } here {")).toEqual([{ kind: "text", text: "no expressions } here {" }]);
  });

  it("allows spaces inside the braces and dots in keys (part of the key, not a path)", () => {
    expect(parseTemplate("{{ inputs.target }}{{\tsteps.Run_1.output.a.b-c\t}}")).toEqual([
      { kind: "input", key: "target", source: "{{ inputs.target }}" },
      { kind: "output", step: "Run_1", key: "a.b-c", source: "{{\tsteps.Run_1.output.a.b-c\t}}" },
    ]);
  });

  it("marks every other expression malformed", () => {
    for (const source of ["{{}}", "{{ x }}", "{{inputs}}", "{{inputs.}}", "{{inputs.1a}}", "{{steps.test}}", "{{steps.test.outputs.x}}", "{{steps.test.output}}", "{{ steps.a b.output.x }}", "{{env.HOME}}", "{{inputs.a\n}}", "{{{inputs.a}}}"]) {
      const parts = parseTemplate(`before ${source} after`);
      expect(parts.find((part) => part.kind === "malformed"), source).toMatchObject({ kind: "malformed", reason: expect.stringContaining("{{inputs.<key>}}") });
      expect(parts.some((part) => part.kind === "input" || part.kind === "output"), source).toBe(false);
    }
  });

  it("reports an unclosed {{ with the start of what follows it", () => {
    expect(parseTemplate("use {{inputs.a} please")).toEqual([
      { kind: "text", text: "use " },
      { kind: "malformed", source: "{{inputs.a} please", reason: expect.stringContaining("never closed") },
    ]);
    const long = parseTemplate(`{{${"x".repeat(200)}`)[0];
    expect(long.kind === "malformed" && long.source.length).toBe(61);
  });

  it("writes \\{{ as a literal {{", () => {
    expect(parseTemplate("Fix the Vue template \\{{ user.name }} in {{inputs.file}}")).toEqual([
      { kind: "text", text: "Fix the Vue template {{ user.name }} in " },
      { kind: "input", key: "file", source: "{{inputs.file}}" },
    ]);
  });
});

describe("inputKeysOf", () => {
  it("lists the inputs a pipeline's tasks use, once each, sorted", () => {
    const steps = [
      { name: "a", task: "{{inputs.target}} and {{inputs.branch}}" },
      { name: "b", task: "{{ inputs.target }} {{steps.a.output.x}} \\{{inputs.literal}}" },
    ];
    expect(inputKeysOf({ steps })).toEqual(["branch", "target"]);
  });
});
