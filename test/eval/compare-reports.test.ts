import { describe, expect, it } from "vitest";
import { compareReports, renderComparison } from "../../src/eval/compare-reports.ts";
import { summarize, type EvalTaskResult } from "../../src/eval/report.ts";
import { evalTaskResult } from "./eval-fixtures.ts";

const models = { explore: "m/e", plan: "m/p", build: "m/b" };

function reportAt(startedAt: string, tasks: EvalTaskResult[]) {
  return summarize({ suite: "basic", startedAt: new Date(startedAt), finishedAt: new Date(startedAt), models, tasks });
}

const old = reportAt("2026-11-20T09:00:00Z", [
  evalTaskResult({ id: "kept", success: true, iterations: 1, tokensIn: 1_000, tokensOut: 0, costUsd: 0.01, wallMs: 60_000 }),
  evalTaskResult({ id: "lost", success: true, iterations: 1, tokensIn: 1_000, tokensOut: 0, costUsd: 0.1, wallMs: 10_000 }),
  evalTaskResult({ id: "removed", success: true }),
  evalTaskResult({ id: "won", success: false, iterations: 3, tokensIn: 3_000, tokensOut: 0, costUsd: 0.2, wallMs: 30_000 }),
]);
const current = reportAt("2026-11-24T09:00:00Z", [
  evalTaskResult({ id: "added", success: false, iterations: 2, tokensIn: 500, tokensOut: 50, costUsd: 0.05, wallMs: 5_000 }),
  evalTaskResult({ id: "kept", success: true, iterations: 1, tokensIn: 1_000, tokensOut: 0, costUsd: 0.01, wallMs: 60_000 }),
  evalTaskResult({ id: "lost", success: false, iterations: 3, tokensIn: 1_500, tokensOut: 0, costUsd: 0.12, wallMs: 15_000 }),
  evalTaskResult({ id: "won", success: true, iterations: 1, tokensIn: 1_500, tokensOut: 0, costUsd: 0.1, wallMs: 15_000 }),
]);

describe("compareReports", () => {
  const comparison = compareReports(old, current);

  it("calls success lost a regression and success gained an improvement", () => {
    expect(comparison.regressions).toBe(1);
    expect(comparison.improvements).toBe(1);
    expect(comparison.tasks.map((task) => [task.id, task.presence === "both" ? task.outcome : task.presence])).toEqual([
      ["added", "added"],
      ["kept", "same"],
      ["lost", "worse"],
      ["removed", "removed"],
      ["won", "better"],
    ]);
  });

  it("gives the deltas of iterations, tokens, cost and wall time", () => {
    const lost = comparison.tasks.find((task) => task.id === "lost");
    expect(lost).toMatchObject({
      success: { old: true, current: false },
      iterations: { old: 1, current: 3, change: 2, percent: 200 },
      tokens: { old: 1_000, current: 1_500, change: 500, percent: 50 },
      wallMs: { old: 10_000, current: 15_000, change: 5_000, percent: 50 },
    });
    expect(lost?.presence === "both" && lost.costUsd.change).toBe(0.02);
  });

  it("totals only the tasks in both reports", () => {
    expect(comparison.totals.iterations).toEqual({ old: 5, current: 5, change: 0, percent: 0 });
    expect(comparison.totals.costUsd.change).toBe(-0.08);
    expect(comparison.totals.wallMs).toMatchObject({ old: 100_000, current: 90_000, change: -10_000, percent: -10 });
  });

  it("has no percentage against zero", () => {
    const free = compareReports(reportAt("2026-11-20T09:00:00Z", [evalTaskResult({ id: "a", costUsd: 0 })]), reportAt("2026-11-24T09:00:00Z", [evalTaskResult({ id: "a", costUsd: 0.5 })]));
    expect(free.totals.costUsd).toEqual({ old: 0, current: 0.5, change: 0.5, percent: null });
  });
});

describe("renderComparison", () => {
  const markdown = renderComparison(compareReports(old, current));

  it("leads with the regressions and the counts", () => {
    expect(markdown).toContain("## Compared with 2026-11-20T09:00:00.000Z\n");
    expect(markdown).toContain("**⚠️ 1 regression**, 1 improvement, 1 added, 1 removed. Succeeded: 3/4 → 2/4.");
  });

  it("marks a regression, an improvement, and tasks in one report only", () => {
    expect(markdown).toContain("| lost | **⚠️ regressed** ✅ → ❌ | 1 → 3 (+2, +200%) | 1,000 → 1,500 (+500, +50%) | $0.1000 → $0.1200 (+$0.0200, +20%) | 10s → 15s (+5s, +50%) |");
    expect(markdown).toContain("| won | improved ❌ → ✅ | 3 → 1 (-2, -67%) | 3,000 → 1,500 (-1,500, -50%) | $0.2000 → $0.1000 (-$0.1000, -50%) | 30s → 15s (-15s, -50%) |");
    expect(markdown).toContain("| kept | same ✅ | 1 → 1 (±0) | 1,000 → 1,000 (±0) | $0.0100 → $0.0100 (±0) | 1m 0s → 1m 0s (±0) |");
    expect(markdown).toContain("| added | 🆕 added: ❌ | 2 | 550 | $0.0500 | 5s |");
    expect(markdown).toContain("| removed | removed (was ✅) | | | | |");
    expect(markdown).toContain("| **total** (tasks in both) | | 5 → 5 (±0) | 5,000 → 4,000 (-1,000, -20%) | $0.3100 → $0.2300 (-$0.0800, -26%) | 1m 40s → 1m 30s (-10s, -10%) |");
  });

  it("says so when nothing regressed", () => {
    expect(renderComparison(compareReports(current, current))).toContain("no regressions, 0 improvements, 0 added, 0 removed.");
  });
});
