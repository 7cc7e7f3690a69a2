/**
 * What the commands of `running-agent` share: where they write, and how they open the
 * local engine. Streams, environment and Ctrl-C come in as `CliIo`, so that a test (or
 * `eval/offline.ts`) runs a command in-process exactly as the terminal would.
 */
import { rmSync } from "node:fs";
import { loadConfig } from "../config/load-config.ts";
import { openLocalEngine, type LocalEngine, type LocalOverrides } from "../local/run-local.ts";
import type { ModelChoice, RunLimits } from "./args.ts";
import { openLogFile } from "./log-file.ts";
import type { ProgressStream } from "./progress.ts";
import { checkLocalConfinement } from "../config/sandbox-policy.ts";

export interface CliIo {
  /** Results: the summary, `--json`, an eval's lines and table. */
  stdout: ProgressStream;
  /** Progress, logs and errors. */
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborts on Ctrl-C: running jobs are cancelled, and the command ends with exit code 130. */
  interrupt?: AbortSignal;
}

/** The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells expect. */
export const INTERRUPTED_EXIT_CODE = 130;

export interface CliEngine extends LocalEngine {
  /** The file the command's log goes to. */
  readonly logFile: string;
}

/**
 * The engine for a command, opened with the command line's choices over the environment's.
 * The configuration is read first, so that a bad AGENT_* variable fails before a
 * Postgres starts. The log goes to `logFile`, or a new file in the temp folder
 * (`openLogFile`). The caller closes the engine.
 */
export async function openEngineFor(io: CliIo, choices: { models: ModelChoice } & RunLimits, logFile?: string): Promise<CliEngine> {
  const config = loadConfig(io.env);
  // Before anything starts: a machine where the sandbox cannot be confined is refused in one line.
  checkLocalConfinement(config, io.env.PATH ?? "");
  const logger = openLogFile(config.env.LOG_LEVEL, logFile);
  if (!config.env.DATABASE_URL) io.stderr.write("Starting a throwaway Postgres for this run (set DATABASE_URL to use your own)…\n");
  let engine: LocalEngine;
  try {
    engine = await openLocalEngine({ config, overrides: overridesOf(choices), log: logger.log });
  } catch (error) {
    logger.close();
    // What went wrong in a Postgres that would not start, say, is in the log.
    if (logger.written) io.stderr.write(`The log is in ${logger.path}\n`);
    else rmSync(logger.path, { force: true });
    throw error;
  }
  for (const job of engine.released) {
    io.stderr.write(`running-agent: job ${job.id} ("${job.issueTitle}") was left running by a running-agent process that is gone: it is now cancelled.\n`);
  }
  return {
    settings: engine.settings,
    released: engine.released,
    run: (request, options) => engine.run(request, options),
    logFile: logger.path,
    async close() {
      await engine.close();
      logger.close();
    },
  };
}

/** Only what the command line sets: anything left out keeps the environment's value. */
export function overridesOf(choices: { models: ModelChoice } & RunLimits): LocalOverrides {
  const models = Object.fromEntries(Object.entries(choices.models).filter(([, id]) => id !== undefined));
  return {
    ...(Object.keys(models).length > 0 ? { models } : {}),
    ...(choices.maxCostUsd !== null ? { maxCostUsd: choices.maxCostUsd } : {}),
    ...(choices.maxIterations !== null ? { maxIterations: choices.maxIterations } : {}),
  };
}
