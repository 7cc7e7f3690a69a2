import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The dashboard's decisions that need no page: what a status means, the graph's layers,
 * the phases read from a log, a pipeline's inputs, the charts' days and scales. The
 * modules are the browser's own (plain JS), loaded as they are.
 */
const DASHBOARD = new URL("../../src/dashboard/", import.meta.url);
// A computed specifier: the modules are JavaScript, which this TypeScript program does not type.
const load = async <T>(name: string): Promise<T> => (await import(new URL(name, DASHBOARD).href)) as T;

type Status = { key: string; label: string; tone: string };
const format = await load<{
  jobStatusOf(job: { status: string; tests_passed: boolean | null }): Status;
  checksOf(job: { status: string; tests_passed: boolean | null }): string;
  issueLabel(item: { issue_number: number | null }): string;
  usd(value: number): string;
  duration(ms: number | null): string;
  shortDuration(ms: number): string;
  ago(iso: string, now: number): string;
}>("format.js");
const dag = await load<{ layoutDag(steps: Array<{ name: string; depends_on?: string[] }>): { layers: string[][]; edges: Array<{ from: string; to: string }> } }>("dag.js");
const phases = await load<{ phasesOf(job: object, logs: object[]): Array<{ name: string; round: number | null; started_at: string; ended_at: string | null; duration_ms: number | null }> }>("job-phases.js");
const inputs = await load<{ inputKeysOf(definition: { steps: Array<{ task: string }> }): string[] }>("pipeline-inputs.js");
const charts = await load<{
  fillDays(days: Array<{ date: string }>, count: number, today: string): Array<{ date: string; completed: number }>;
  niceScale(max: number, integer: boolean): { top: number; step: number };
  rollingMergeRate(days: Array<{ merged: number; closed_unmerged: number }>, window: number): Array<number | null>;
}>("charts.js");
const activity = await load<{ lastFailingChecks(logs: Array<{ kind: string; message: string }>): string[] }>("job-activity.js");

describe("what the page says of a job", () => {
  it("never calls a delivered job whose checks fail a success, and never says '#0' or 'null'", () => {
    expect(format.jobStatusOf({ status: "completed", tests_passed: false })).toMatchObject({ label: "checks failing", tone: "warn" });
    expect(format.jobStatusOf({ status: "completed", tests_passed: true })).toMatchObject({ label: "completed", tone: "ok" });
    expect(format.jobStatusOf({ status: "timed_out", tests_passed: null })).toMatchObject({ label: "timed out", tone: "danger" });
    expect(format.checksOf({ status: "completed", tests_passed: null })).toBe("no checks found");
    expect(format.checksOf({ status: "running", tests_passed: null })).toBe("not run yet");
    expect(format.issueLabel({ issue_number: null })).toBe("");
    expect(format.issueLabel({ issue_number: 0 })).toBe("");
    expect(format.issueLabel({ issue_number: 7 })).toBe("#7");
  });

  it("writes money, durations and ages for people", () => {
    expect([0, 0.0042, 0.42, 12.5, 1234.4].map(format.usd)).toEqual(["$0", "$0.0042", "$0.42", "$12.50", "$1,234"]);
    expect([null, 850, 42_000, 185_000, 7_800_000].map(format.duration)).toEqual(["—", "850 ms", "42 s", "3 min 5 s", "2 h 10 min"]);
    // A chart's axis has room for one unit.
    expect([0, 45_000, 12 * 60_000, 5 * 3_600_000, 264 * 3_600_000].map(format.shortDuration)).toEqual(["0", "45 s", "12 min", "5 h", "11 d"]);
    const now = Date.parse("2026-12-05T12:00:00Z");
    expect(["2026-12-05T11:59:50Z", "2026-12-05T11:55:00Z", "2026-12-05T09:00:00Z", "2026-12-01T12:00:00Z"].map((iso) => format.ago(iso, now))).toEqual(["just now", "5 min ago", "3 h ago", "4 d ago"]);
  });
});

describe("a pipeline's graph", () => {
  it("puts each step one layer after the last of the steps it waits for", () => {
    const { layers, edges } = dag.layoutDag([{ name: "survey" }, { name: "code", depends_on: ["survey"] }, { name: "docs", depends_on: ["survey"] }, { name: "notes", depends_on: ["code", "docs", "survey"] }]);
    expect(layers).toEqual([["survey"], ["code", "docs"], ["notes"]]);
    expect(edges).toHaveLength(5);
  });

  it("places every step once, below all it waits for, whatever the DAG (and survives what the API would refuse)", () => {
    const dags = fc.integer({ min: 1, max: 12 }).chain((size) =>
      fc.array(fc.uniqueArray(fc.integer({ min: 0, max: size - 1 }), { maxLength: 4 }), { minLength: size, maxLength: size }).map((upstream) =>
        upstream.map((from, index) => ({ name: `s${index}`, depends_on: from.filter((other) => other < index).map((other) => `s${other}`) })),
      ),
    );
    fc.assert(
      fc.property(dags, (steps) => {
        const { layers } = dag.layoutDag(steps);
        const layerOf = new Map(layers.flatMap((layer, index) => layer.map((name) => [name, index] as const)));
        expect(layers.flat().sort()).toEqual(steps.map((step) => step.name).sort());
        for (const step of steps) for (const upstream of step.depends_on) expect(layerOf.get(upstream)!).toBeLessThan(layerOf.get(step.name)!);
      }),
    );
    // A cycle or an unknown step cannot hang the page.
    expect(dag.layoutDag([{ name: "a", depends_on: ["b"] }, { name: "b", depends_on: ["a", "ghost"] }]).layers.flat().sort()).toEqual(["a", "b"]);
  });

  it("asks a run for each input its tasks name, as the server reads them", () => {
    const keys = inputs.inputKeysOf({ steps: [{ task: "Lint {{inputs.target}} and {{ inputs.target }}" }, { task: "For {{inputs.audience}}, not \\{{inputs.literal}} nor {{steps.lint.output.name}}" }] });
    expect(keys).toEqual(["audience", "target"]);
  });
});

describe("a job's phases, from its log", () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 11, 5, 12, minute)).toISOString();
  const entry = (minute: number, kind: string, message: string) => ({ id: minute, at: at(minute), kind, message, data: null });

  it("opens a span at each phase, counts build and verify rounds, and closes the last at the job's end", () => {
    const logs = [entry(0, "phase", "phase prepare started"), entry(1, "phase", "phase build started"), entry(3, "phase", "phase verify started"), entry(4, "phase", "phase build started"), entry(5, "phase", "phase verify started"), entry(6, "finished", "job completed")];
    const read = phases.phasesOf({ finished_at: at(7) }, logs);
    expect(read.map((phase) => [phase.name, phase.round, phase.duration_ms])).toEqual([
      ["prepare", null, 60_000],
      ["build", 1, 120_000],
      ["verify", 1, 60_000],
      ["build", 2, 60_000],
      ["verify", 2, 60_000],
    ]);
    // A running job's current phase has no end yet.
    expect(phases.phasesOf({ finished_at: null }, logs.slice(0, 2)).at(-1)).toMatchObject({ name: "build", ended_at: null });
    // The API's own phases win when it gives them.
    expect(phases.phasesOf({ phases: [], finished_at: null }, logs)).toEqual([]);
  });

  it("names the checks that still fail after the last round", () => {
    const logs = [entry(1, "check", "lint: failed"), entry(1, "check", "test: failed"), entry(2, "round", "round 1: checks failed"), entry(3, "check", "lint: passed"), entry(3, "check", "test: failed")];
    expect(activity.lastFailingChecks(logs)).toEqual(["test"]);
  });
});

describe("the charts", () => {
  it("show every one of the last 30 days, those without jobs too, on a round scale", () => {
    const days = charts.fillDays([{ date: "2026-12-03", completed: 2 } as never], 30, "2026-12-05");
    expect(days).toHaveLength(30);
    expect(days[0]!.date).toBe("2026-11-06");
    expect(days.at(-1)!.date).toBe("2026-12-05");
    expect(days.find((day) => day.date === "2026-12-03")!.completed).toBe(2);
    expect(charts.niceScale(0, true)).toEqual({ top: 4, step: 1 });
    expect(charts.niceScale(7, true)).toEqual({ top: 8, step: 2 });
    expect(charts.niceScale(0.83, false)).toEqual({ top: 1, step: 0.25 });
    expect(charts.rollingMergeRate([{ merged: 1, closed_unmerged: 0 }, { merged: 0, closed_unmerged: 1 }, { merged: 0, closed_unmerged: 0 }], 2)).toEqual([1, 0.5, 0]);
  });
});

describe("the dashboard's JSDoc types", () => {
  it("hold, checked as strict TypeScript against the browser's library", () => {
    const program = ts.createProgram([new URL("app.js", DASHBOARD).pathname], {
      allowJs: true,
      checkJs: true,
      noEmit: true,
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts", "lib.dom.asynciterable.d.ts"],
      types: [],
      skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
    expect(problems).toEqual([]);
  });
});
