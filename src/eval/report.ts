/**
 * The result of an eval run: built from the jobs' rows, written as `report.json` and
 * `report.md`, and read back (`--compare`) with the same schema.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { microsOf, sumUsage, usdOf } from "../budget.ts";
import type { Job } from "../store/jobs.sql.ts";
import { describeIssues, EvalInputError, readJsonText } from "./eval-input-error.ts";
import { phaseTimesOf, slowestPhaseOf } from "./phase-times.ts";
import { renderMarkdown } from "./report-markdown.ts";
import { evalReportSchema, type EvalReport, type EvalTaskResult } from "./report.schema.ts";

export type { EvalReport, EvalTaskResult } from "./report.schema.ts";

/** Bytes of a check's output kept in the report: the end, where test runners put their verdict. */
export const CHECK_OUTPUT_LIMIT = 2048;

export interface EvalModels {
  explore: string;
  plan: string;
  build: string;
}

/** One task's result from its job row and what its check said. `wallMs`: the task's start to its check's end. */
export function taskResultOf(task: { id: string; title: string; tags: readonly string[] }, job: Job, check: { success: boolean; output: string }, wallMs: number): EvalTaskResult {
  const phaseMs = phaseTimesOf(job.timings);
  return {
    id: task.id,
    title: task.title,
    tags: [...task.tags],
    success: check.success,
    checkOutput: tailOf(check.output, CHECK_OUTPUT_LIMIT),
    jobStatus: job.status,
    failureKind: job.failureKind,
    iterations: job.iterations,
    tokensIn: job.totalTokensIn,
    tokensOut: job.totalTokensOut,
    costUsd: usdOf(microsOf(job.totalCost)),
    wallMs: Math.max(0, Math.round(wallMs)),
    phaseMs,
    slowestPhase: slowestPhaseOf(phaseMs),
  };
}

/** The report with its totals; tasks in id order. */
export function summarize(run: { suite: string; startedAt: Date; finishedAt: Date; models: EvalModels; tasks: readonly EvalTaskResult[] }): EvalReport {
  const tasks = [...run.tasks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const succeeded = tasks.filter((task) => task.success).length;
  const usage = sumUsage(tasks.map((task) => ({ cost: task.costUsd, tokensIn: task.tokensIn, tokensOut: task.tokensOut })));
  // A Map, then fromEntries: a phase named `__proto__` (from a report file) stays a plain key.
  const phaseMs = new Map<string, number>();
  for (const task of tasks) for (const [phase, ms] of Object.entries(task.phaseMs)) phaseMs.set(phase, (phaseMs.get(phase) ?? 0) + ms);
  return {
    suite: run.suite,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    models: { ...run.models },
    tasks,
    totals: {
      tasks: tasks.length,
      succeeded,
      successRate: tasks.length === 0 ? 0 : succeeded / tasks.length,
      iterations: tasks.reduce((sum, task) => sum + task.iterations, 0),
      tokensIn: usage.tokensIn,
      tokensOut: usage.tokensOut,
      costUsd: usage.cost,
      wallMs: tasks.reduce((sum, task) => sum + task.wallMs, 0),
      phaseMs: Object.fromEntries(phaseMs),
    },
  };
}

/** A report read back from `source` (a file name, for the messages). Throws EvalInputError naming each problem. */
export function parseReport(text: string, source = "report"): EvalReport {
  const json = readJsonText(text, source);
  if ("problem" in json) throw new EvalInputError([json.problem]);
  const parsed = evalReportSchema.safeParse(json.value);
  if (!parsed.success) throw new EvalInputError([`${source}: not an eval report (report.json of running-agent eval):`, ...describeIssues(source, parsed.error.issues).map((line) => `  ${line}`)]);
  return parsed.data;
}

export async function readReport(file: string): Promise<EvalReport> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new EvalInputError([`${file}: cannot be read: ${error instanceof Error ? error.message : String(error)}`]);
  }
  return parseReport(text, file);
}

/** Write `report.json` and `report.md` (with `appendix`, a comparison say, after the report) into `outDir`, creating it. */
export async function writeReport(outDir: string, report: EvalReport, appendix = ""): Promise<{ json: string; markdown: string }> {
  await mkdir(outDir, { recursive: true });
  const json = path.join(outDir, "report.json");
  const markdown = path.join(outDir, "report.md");
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdown, appendix === "" ? renderMarkdown(report) : `${renderMarkdown(report)}\n${appendix}`);
  return { json, markdown };
}

/** The last `maxBytes` bytes of `text` (UTF-8), a marker line first when some were cut; never longer than `maxBytes`. */
export function tailOf(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  const marker = "[… earlier output cut …]\n";
  let start = bytes.length - Math.max(0, maxBytes - Buffer.byteLength(marker));
  // Never start inside a character: skip UTF-8 continuation bytes.
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return marker + bytes.subarray(start).toString("utf8");
}
