import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePlan, PLAN_CORRECTION_PROMPT, PLAN_FORMAT_INSTRUCTIONS, renderPlanMarkdown, type Plan } from "../../src/agent/plan.ts";
import { MAX_FILE_PATH_CHARS, MAX_PLAN_STEPS, MAX_STEP_FILES, MAX_STEP_TITLE_CHARS } from "../../src/agent/plan.schema.ts";

const PLAN: Plan = {
  summary: "Add a slugify helper and use it for branch names.",
  steps: [
    { title: "Add slugify", detail: "Lowercase, replace runs of non-alphanumerics with one dash.", files: ["src/slug.ts"] },
    { title: "Use it in branchName", detail: "", files: ["src/github/branch-name.ts", "test/github/branch-name.test.ts"] },
  ],
};

describe("parsePlan from JSON", () => {
  it("reads the JSON in a ```json fence, with prose around it", () => {
    const text = `I looked at the code. Here is the plan:\n\n\`\`\`json\n${JSON.stringify(PLAN, null, 2)}\n\`\`\`\n\nLet me know.`;
    expect(parsePlan(text)).toEqual(PLAN);
  });

  it("reads a bare JSON object, and one inside an untagged fence", () => {
    expect(parsePlan(JSON.stringify(PLAN))).toEqual(PLAN);
    expect(parsePlan(`Plan:\n${JSON.stringify(PLAN)}\nDone.`)).toEqual(PLAN);
    expect(parsePlan(`\`\`\`\n${JSON.stringify(PLAN)}\n\`\`\``)).toEqual(PLAN);
  });

  it("skips a fence that is not the plan and takes the one that is", () => {
    const text = `\`\`\`json\n{"note": "not a plan"}\n\`\`\`\n\n\`\`\`json\n${JSON.stringify(PLAN)}\n\`\`\``;
    expect(parsePlan(text)).toEqual(PLAN);
  });

  it("accepts steps as strings and the names models drift to", () => {
    const text = JSON.stringify({ steps: ["Add the route", { name: "Test it", description: "cover 404", files: ["test/api.test.ts", 3, "", "has space"] }] });
    expect(parsePlan(text)).toEqual({
      summary: "",
      steps: [
        { title: "Add the route", detail: "", files: [] },
        { title: "Test it", detail: "cover 404", files: ["test/api.test.ts"] },
      ],
    });
  });

  it("caps the steps, titles and files, marking cut text", () => {
    const steps = Array.from({ length: MAX_PLAN_STEPS + 10 }, (_, index) => ({
      title: `Step ${index} ${"x".repeat(index === 0 ? 500 : 0)}`,
      detail: "",
      files: Array.from({ length: 40 }, (_, file) => `src/f${file}.ts`).concat("y".repeat(MAX_FILE_PATH_CHARS + 1)),
    }));
    const plan = parsePlan(JSON.stringify({ summary: "s", steps }))!;
    expect(plan.steps).toHaveLength(MAX_PLAN_STEPS);
    expect(plan.steps[0].title).toHaveLength(MAX_STEP_TITLE_CHARS);
    expect(plan.steps[0].title.endsWith("…")).toBe(true);
    expect(plan.steps[1].files).toHaveLength(MAX_STEP_FILES);
    expect(plan.steps[1].files.every((file) => file.length <= MAX_FILE_PATH_CHARS)).toBe(true);
  });

  it("returns null when there are no steps", () => {
    expect(parsePlan("")).toBeNull();
    expect(parsePlan("I could not come up with a plan.")).toBeNull();
    expect(parsePlan('```json\n{"summary": "nothing to do", "steps": []}\n```')).toBeNull();
    expect(parsePlan('{"summary": "x", "steps": [{"title": "  ", "detail": ""}]}')).toBeNull();
    expect(parsePlan('{"summary": "x", "steps": [ {"title": "unterminated"')).toBeNull();
  });
});

describe("parsePlan from Markdown", () => {
  it("reads a numbered list under a heading, with indented detail and backticked files", () => {
    const text = [
      "## Summary",
      "Branch names break on non-ASCII titles; slugify them.",
      "",
      "## Steps",
      "1. **Add slugify**: create `src/slug.ts` exporting `slugify(title)`.",
      "   Strip diacritics first, then replace runs of other characters with `-`.",
      "   - keep at most 40 characters",
      "2. Use it in `src/github/branch-name.ts` (see `branchName()`)",
      "3. Update `test/github/branch-name.test.ts:12` and the `README.md`",
      "",
      "```ts",
      "1. not a step inside code",
      "```",
    ].join("\n");
    expect(parsePlan(text)).toEqual({
      summary: "Branch names break on non-ASCII titles; slugify them.",
      steps: [
        {
          title: "Add slugify",
          detail: "create `src/slug.ts` exporting `slugify(title)`.\nStrip diacritics first, then replace runs of other characters with `-`.\n- keep at most 40 characters",
          files: ["src/slug.ts"],
        },
        { title: "Use it in `src/github/branch-name.ts` (see `branchName()`)", detail: "", files: ["src/github/branch-name.ts"] },
        { title: "Update `test/github/branch-name.test.ts:12` and the `README.md`", detail: "", files: ["test/github/branch-name.test.ts", "README.md"] },
      ],
    });
  });

  it("prefers the list under a plan-like heading over other bullets", () => {
    const text = ["## Context", "- the parser is in `src/parse.ts`", "- it has no tests", "", "## Plan", "- Add tests for `parse`", "- Fix the off-by-one"].join("\n");
    expect(parsePlan(text)?.steps.map((step) => step.title)).toEqual(["Add tests for `parse`", "Fix the off-by-one"]);
  });

  it("reads back the titles of a rendered plan", () => {
    expect(parsePlan(renderPlanMarkdown(PLAN))?.steps.map((step) => step.title)).toEqual(PLAN.steps.map((step) => step.title));
  });
});

describe("renderPlanMarkdown", () => {
  it("renders a numbered checklist with detail and files under each step", () => {
    expect(renderPlanMarkdown(PLAN)).toBe(
      [
        "Add a slugify helper and use it for branch names.",
        "",
        "1. [ ] Add slugify",
        "   Lowercase, replace runs of non-alphanumerics with one dash.",
        "   Files: `src/slug.ts`",
        "2. [ ] Use it in branchName",
        "   Files: `src/github/branch-name.ts`, `test/github/branch-name.test.ts`",
      ].join("\n"),
    );
    expect(renderPlanMarkdown({ summary: "", steps: [] })).toBe("_No steps._");
  });
});

describe("prompts", () => {
  it("ask for the JSON shape that parsePlan reads", () => {
    const example = /```json\n([\s\S]*?)```/.exec(PLAN_FORMAT_INSTRUCTIONS)![1];
    expect(parsePlan(example)?.steps).toHaveLength(1);
    expect(parsePlan(/\{.*\}/.exec(PLAN_CORRECTION_PROMPT)![0])?.steps).toHaveLength(1);
  });
});

describe("parsePlan properties", () => {
  const clean = (text: string) => text.trim();
  const text = (maxLength: number) => fc.oneof(fc.string({ maxLength }), fc.string({ unit: "grapheme", maxLength })).map(clean);
  const title = text(MAX_STEP_TITLE_CHARS).filter((t) => t !== "" && !/[\r\n]/.test(t));
  const file = fc.stringMatching(/^[\w.@+-]{1,12}(?:\/[\w.@+-]{1,12}){0,3}$/);
  const plan: fc.Arbitrary<Plan> = fc.record({
    summary: text(300),
    steps: fc.array(fc.record({ title, detail: text(300), files: fc.uniqueArray(file, { maxLength: MAX_STEP_FILES }) }), { minLength: 1, maxLength: MAX_PLAN_STEPS }),
  });

  it("round-trips a plan written in the requested JSON format", () => {
    fc.assert(
      fc.property(plan, fc.constantFrom("", "Here is the plan:\n\n"), (original, preamble) => {
        expect(parsePlan(`${preamble}\`\`\`json\n${JSON.stringify(original, null, 2)}\n\`\`\``)).toEqual(original);
      }),
    );
  });

  it("never throws, and whatever it returns has steps within the caps", () => {
    const fragments = fc.constantFrom("```json\n", "```\n", "{", "}", '"steps":', '"title":', "[", "]", "1. ", "- ", "\n", "   ", "## Plan\n", "`src/a.ts`", "**x**:");
    const input = fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.oneof(fragments, fc.string({ maxLength: 10 })), { maxLength: 40 }).map((parts) => parts.join("")));
    fc.assert(
      fc.property(input, (raw) => {
        const result = parsePlan(raw);
        if (result === null) return;
        expect(result.steps.length).toBeGreaterThan(0);
        expect(result.steps.length).toBeLessThanOrEqual(MAX_PLAN_STEPS);
        for (const step of result.steps) expect(step.title.length).toBeLessThanOrEqual(MAX_STEP_TITLE_CHARS);
      }),
      { numRuns: 500 },
    );
  });
});
