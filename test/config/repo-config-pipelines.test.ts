import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../src/config/repo-config.ts";

const ciFix = `pipelines:
  ci-fix:
    description: Lint, test, report
    steps:
      - { name: lint, task: "Run eslint and fix all errors" }
      - { name: test, task: "Run all unit tests", depends_on: [lint], on_failure: continue }
      - { name: report, task: "Summarize {{steps.test.output.failures}} for {{inputs.target}}", depends_on: [test] }
`;

function errorsOf(text: string): string[] {
  const result = parseRepoConfig(text);
  return result.ok ? [] : result.errors;
}

describe("parseRepoConfig with pipelines", () => {
  it("accepts the documented pipeline, with on_failure stop by default", () => {
    const result = parseRepoConfig(ciFix);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.pipelines?.["ci-fix"].steps.map((step) => [step.name, step.on_failure])).toEqual([
      ["lint", "stop"],
      ["test", "continue"],
      ["report", "stop"],
    ]);
  });

  it("reports bad YAML in a pipeline with its line", () => {
    const errors = errorsOf(ciFix.replace("depends_on: [test] }", "depends_on: [test }"));
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error).toMatch(/^line 7: Flow (sequence|map) in block collection must .* end with a [\]}]$/);
  });

  it("reports an unknown key on the line of the key", () => {
    const text = `pipelines:
  ci-fix:
    steps:
      - name: lint
        task: Run eslint
        needs: [test]
`;
    expect(errorsOf(text)).toEqual([expect.stringMatching(/^line 6: pipelines\.ci-fix\.steps\.0: Unrecognized key: "needs"/)]);
  });

  it("reports a bad pipeline name on the line of the name", () => {
    expect(errorsOf(ciFix.replace("ci-fix:", "ci fix:"))).toEqual(["line 2: pipelines.ci fix: a pipeline name is 1 to 63 letters, digits, '-' or '_', starting with a letter or digit"]);
  });

  it("reports a cycle on the dependency that closes it, naming the cycle", () => {
    expect(errorsOf(ciFix.replace('fix all errors" }', 'fix all errors", depends_on: [report] }'))).toEqual([
      "line 5: pipelines.ci-fix.steps.0.depends_on.0: the steps wait for each other in a cycle, so none of them can start: report → lint → test → report",
    ]);
  });

  it("reports depends_on naming no step", () => {
    expect(errorsOf(ciFix.replace("depends_on: [lint]", "depends_on: [lnit]"))).toEqual([
      'line 6: pipelines.ci-fix.steps.1.depends_on.0: "lnit" is not a step of this pipeline (steps: lint, test, report)',
    ]);
  });

  it("reports a template naming a step that is not upstream", () => {
    const text = `pipelines:
  ci-fix:
    steps:
      - name: lint
        task: |
          Fix what {{steps.report.output.summary}} lists.
      - { name: report, task: Summarize, depends_on: [lint] }
`;
    expect(errorsOf(text)).toEqual([expect.stringMatching(/^line 5: pipelines\.ci-fix\.steps\.0\.task: \{\{steps\.report\.output\.summary\}\}: "report" is not upstream of "lint"/)]);
  });

  it("reports a malformed template expression", () => {
    expect(errorsOf(ciFix.replace("{{inputs.target}}", "{{input.target}}"))).toEqual([expect.stringMatching(/^line 7: pipelines\.ci-fix\.steps\.2\.task: malformed expression \{\{input\.target\}\}/)]);
  });

  it("reports a repeated step name on the repeat", () => {
    expect(errorsOf(ciFix.replace("name: report", "name: lint").replace("{{steps.test.output.failures}}", "it"))).toEqual([
      'line 7: pipelines.ci-fix.steps.2.name: another step is already named "lint": step names must be unique',
    ]);
  });

  it("reports pipeline and other problems together, in file order", () => {
    const text = `${ciFix.replace("depends_on: [lint]", "depends_on: [lnit]")}  other:
    steps: []
commands:
  test: 42
`;
    expect(errorsOf(text)).toEqual([
      expect.stringMatching(/^line 6: pipelines\.ci-fix\.steps\.1\.depends_on\.0: "lnit"/),
      expect.stringMatching(/^line 9: pipelines\.other\.steps: a pipeline needs at least one step/),
      expect.stringMatching(/^line 11: commands\.test: /),
    ]);
  });

  it("wants pipelines to be a map of definitions", () => {
    expect(errorsOf("pipelines:\n  - ci-fix\n")).toEqual([expect.stringMatching(/^line 2: pipelines: /)]);
    expect(errorsOf("pipelines:\n  ci-fix: run the tests\n")).toEqual([expect.stringMatching(/^line 2: pipelines\.ci-fix: /)]);
  });
});
