/**
 * `running-agent run`: one job on a repository on this machine, its progress live on
 * stderr, then the summary (or, with `--json`, the job as GET /api/jobs/:id shows it).
 * The log goes to a file in the temp folder, which the summary names when the run did
 * not succeed (`log-file.ts`).
 * Bad input throws (LocalRunError, ConfigError, CliUsageError); `main` turns that into
 * one line and exit code 2.
 */
import { readFile, rm } from "node:fs/promises";
import { jobToJson } from "../api/job-json.ts";
import { checkLocalRequest, type LocalRunResult } from "../local/run-local.ts";
import { checkTaskText, type CliCommand } from "./args.ts";
import { INTERRUPTED_EXIT_CODE, openEngineFor, type CliIo } from "./cli-io.ts";
import { asJobReporter, createProgressWriter, NOTABLE_EVENT_KINDS } from "./progress.ts";
import { exitCodeOf, renderSummary } from "./summary.ts";

type RunCommand = Extract<CliCommand, { kind: "run" }>;

/** Bad usage found after parsing (an empty task file): exit code 2, like a parse error. */
export class CliUsageError extends Error {
  override name = "CliUsageError";
}

export async function runCommand(command: RunCommand, io: CliIo): Promise<number> {
  const task = await taskTextOf(command);
  const request = { repo: command.repo, task, ...(command.base !== null ? { base: command.base } : {}) };
  await checkLocalRequest(request);
  const engine = await openEngineFor(io, command);
  const writer = createProgressWriter(io.stderr);
  const started = new Date();
  // On a TTY the status line's clock moves on between the job's own updates.
  const ticker = io.stderr.isTTY ? setInterval(() => writer.tick(), 1_000) : undefined;
  let result: LocalRunResult;
  try {
    result = await engine.run(
      request,
      // The job's notable events as lines as they happen (on a TTY, above the status line).
      { progress: asJobReporter(writer), ...(io.interrupt ? { signal: io.interrupt } : {}), onEvent: (event) => NOTABLE_EVENT_KINDS.has(event.kind) && writer.event(event, started) },
    );
  } finally {
    clearInterval(ticker);
    await engine.close();
  }
  const code = io.interrupt?.aborted && result.job.status === "cancelled" ? INTERRUPTED_EXIT_CODE : exitCodeOf(result.job);
  // A run that did what was asked leaves nothing behind in the temp folder, unless a log was asked for.
  const keepLog = code !== 0 || Boolean(io.env.LOG_LEVEL);
  if (!keepLog) await rm(engine.logFile, { force: true });
  const summary = renderSummary(result.job, { branch: result.branch, files: result.files, ...(keepLog ? { logFile: engine.logFile } : {}) });
  if (command.json) {
    io.stderr.write(`\n${summary}`);
    io.stdout.write(`${JSON.stringify(jobToJson(result.job, result.events), null, 2)}\n`);
  } else {
    io.stdout.write(`\n${summary}`);
  }
  return code;
}

async function taskTextOf(command: RunCommand): Promise<string> {
  if (command.task.from === "argument") return command.task.text;
  const file = command.task.path;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CliUsageError(`cannot read the task file ${file}${code === "ENOENT" ? ": no such file" : typeof code === "string" ? ` (${code})` : ""}`);
  }
  const problem = checkTaskText(text, file);
  if (problem) throw new CliUsageError(problem.message);
  return text.trim();
}
