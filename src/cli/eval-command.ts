/**
 * `running-agent eval <suite>`: every task of the suite on one local engine, a line per
 * finished task on stdout, then the results table; report.json and report.md go to
 * `--out`, with the engine's log (running-agent.log). A task that fails its check is a
 * result, not an error: the exit code is 0 when every task ran, 1 when a task could not
 * run (or, with `--compare`, when a task that succeeded in the old report fails now), 130
 * on Ctrl-C (no report is written).
 */
import path from "node:path";
import { formatDuration } from "../duration.ts";
import { formatUsd } from "../budget.ts";
import { compareReports, renderComparison } from "../eval/compare-reports.ts";
import { percentOf, renderResultsTable } from "../eval/report-markdown.ts";
import { readReport, summarize, writeReport, type EvalReport, type EvalTaskResult } from "../eval/report.ts";
import { NOT_RUN_STATUS, runSuite } from "../eval/run-suite.ts";
import { loadSuite } from "../eval/suite.ts";
import type { CliCommand } from "./args.ts";
import { INTERRUPTED_EXIT_CODE, openEngineFor, type CliIo } from "./cli-io.ts";

type EvalCommand = Extract<CliCommand, { kind: "eval" }>;

/** The engine's log, in the report's folder. */
const LOG_FILE = "running-agent.log";

export async function evalCommand(command: EvalCommand, io: CliIo): Promise<number> {
  // Both inputs are read before anything starts: a typo must not cost a suite's run.
  const tasks = await loadSuite(command.suite, { only: command.only });
  const old = command.compare === null ? null : await readReport(command.compare);
  // The log goes with the report (and stays when Ctrl-C stops the suite before a report).
  const engine = await openEngineFor(io, command, path.join(command.out, LOG_FILE));
  const startedAt = new Date();
  let results: EvalTaskResult[];
  try {
    io.stderr.write(`Running ${tasks.length} task${tasks.length === 1 ? "" : "s"} of ${command.suite}, ${command.concurrency} at a time…\n`);
    results = await runSuite(engine, tasks, {
      concurrency: command.concurrency,
      ...(io.interrupt ? { signal: io.interrupt } : {}),
      onTaskStart: (task) => io.stderr.write(`started ${task.id}\n`),
      onTaskDone: (result) => io.stdout.write(`${taskLine(result)}\n`),
    });
  } finally {
    await engine.close();
  }
  if (io.interrupt?.aborted) {
    io.stderr.write(`Interrupted: the running tasks were cancelled; no report was written (the log is in ${engine.logFile}).\n`);
    return INTERRUPTED_EXIT_CODE;
  }
  const report = summarize({ suite: suiteNameOf(command.suite, io.cwd), startedAt, finishedAt: new Date(), models: engine.settings.models, tasks: results });
  const comparison = old === null ? null : compareReports(old, report);
  const written = await writeReport(command.out, report, comparison === null ? "" : renderComparison(comparison));
  io.stdout.write(`\n${renderResultsTable(report)}`);
  if (comparison !== null) io.stdout.write(`\n${renderComparison(comparison)}`);
  io.stdout.write(`\nReport: ${written.markdown} (and ${written.json}; the log: ${LOG_FILE})\n`);
  return exitCodeOfEval(report, comparison?.regressions ?? 0, io);
}

/** `✅ slugify-whitespace · 1 iteration · 12,345 tokens · $0.0123 · 42s`, or `❌ id (tests) · …`. */
export function taskLine(result: EvalTaskResult): string {
  const mark = result.success ? "✅" : "❌";
  const why = result.success ? "" : ` (${result.jobStatus === NOT_RUN_STATUS ? "did not run" : (result.failureKind ?? "check failed")})`;
  const tokens = (result.tokensIn + result.tokensOut).toLocaleString("en-US");
  const iterations = `${result.iterations} iteration${result.iterations === 1 ? "" : "s"}`;
  return `${mark} ${result.id}${why} · ${iterations} · ${tokens} tokens · ${formatUsd(result.costUsd)} · ${formatDuration(result.wallMs)}`;
}

/** The suite as the report names it: relative to where the command ran when inside it, so reports from two checkouts compare as one suite. */
function suiteNameOf(suite: string, cwd: string): string {
  const relative = path.relative(cwd, suite);
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? suite : relative;
}

function exitCodeOfEval(report: EvalReport, regressions: number, io: CliIo): number {
  const notRun = report.tasks.filter((task) => task.jobStatus === NOT_RUN_STATUS);
  io.stdout.write(`Success rate: ${report.totals.succeeded}/${report.totals.tasks} (${percentOf(report.totals.successRate)})\n`);
  if (notRun.length > 0) {
    io.stderr.write(`${notRun.length} task${notRun.length === 1 ? "" : "s"} could not run: ${notRun.map((task) => task.id).join(", ")} (see report.md)\n`);
    return 1;
  }
  if (regressions > 0) {
    io.stderr.write(`${regressions} task${regressions === 1 ? "" : "s"} regressed since the compared report.\n`);
    return 1;
  }
  return 0;
}
