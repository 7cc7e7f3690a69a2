import { describe, expect, it } from "vitest";
import { checkRunRequest } from "../../src/pipelines/check-run-request.ts";

const FILE = [
  "pipelines:",
  "  ci-fix:",
  "    steps:",
  '      - { name: lint, task: "Lint {{inputs.target}}" }',
  '      - { name: test, task: "Test", depends_on: [lint] }',
  "",
].join("\n");

describe("an /agent run request, checked before anything runs", () => {
  it("is accepted with the inputs the pipeline's templates use", () => {
    const check = checkRunRequest(FILE, { pipeline: "ci-fix", inputs: { target: "src/" } });
    expect(check).toMatchObject({ ok: true, inputs: { target: "src/" } });
    expect(check.ok && check.pipeline.steps.map((step) => step.name)).toEqual(["lint", "test"]);
  });

  it("says which inputs are missing or unknown, with the usage", () => {
    const check = checkRunRequest(FILE, { pipeline: "ci-fix", inputs: { tagret: "src/" } });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reply).toContain("it needs `target`; it takes no `tagret`");
    expect(!check.ok && check.reply).toContain("`/agent run ci-fix target=…`");
  });

  it("names the pipelines there are when the one asked for is not", () => {
    expect(checkRunRequest(FILE, { pipeline: "deploy", inputs: {} })).toEqual({ ok: false, reply: "`.github/agent.yml` has no pipeline `deploy`. Its pipelines: `ci-fix`." });
    expect(checkRunRequest("commands:\n  test: npm test\n", { pipeline: "x", inputs: {} })).toMatchObject({ ok: false, reply: expect.stringContaining("declares no pipelines") });
    expect(checkRunRequest(null, { pipeline: "x", inputs: {} })).toMatchObject({ ok: false, reply: expect.stringContaining("no `.github/agent.yml`") });
  });

  it("reports a malformed file with its lines, whatever pipeline was asked for", () => {
    const cyclic = FILE.replace('task: "Lint {{inputs.target}}" }', 'task: "Lint", depends_on: [test] }');
    const check = checkRunRequest(cyclic, { pipeline: "ci-fix", inputs: {} });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reply).toMatch(/has problems, so nothing was run:\n\n- line \d+: .*cycle/);
  });
});
