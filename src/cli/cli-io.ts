/**
 * What the commands of `running-agent` share: where they write, and how they open the
 * local engine. Streams, environment and Ctrl-C come in as `CliIo`, so that a test (or
 * `eval/offline.ts`) runs a command in-process exactly as the terminal would.
 */
import pino, { type Logger } from "pino";
import { loadConfig } from "../config/load-config.ts";
import { redactKnownTokens } from "../context/redact.ts";
import { openLocalEngine, type LocalEngine, type LocalOverrides } from "../local/run-local.ts";
import type { ModelChoice, RunLimits } from "./args.ts";
import type { ProgressStream } from "./progress.ts";

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

/**
 * The engine for a command, opened with the command line's choices over the environment's.
 * The configuration is read first, so that a bad AGENT_* variable fails before a
 * Postgres starts. The caller closes the engine.
 */
export async function openEngineFor(io: CliIo, choices: { models: ModelChoice } & RunLimits): Promise<LocalEngine> {
  const config = loadConfig(io.env);
  // Quiet unless asked: the terminal belongs to the progress lines.
  const log = stderrLogger(io.env.LOG_LEVEL ? config.env.LOG_LEVEL : "warn", io.stderr);
  if (!config.env.DATABASE_URL) io.stderr.write("Starting a throwaway Postgres for this run (set DATABASE_URL to use your own)…\n");
  return openLocalEngine({ config, overrides: overridesOf(choices), log });
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

/** pino to stderr, every line through the token redactor (as `createLogger` does for the app). */
function stderrLogger(level: string, stderr: ProgressStream): Logger {
  return pino({ level }, { write: (line: string) => stderr.write(redactKnownTokens(line)) });
}
