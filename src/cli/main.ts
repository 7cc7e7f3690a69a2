/**
 * `running-agent` (bin/running-agent.js): `run` one task on a repository on this machine,
 * or `eval` a suite of tasks. `main` is the whole command as a function of its arguments
 * and streams; `runFromCommandLine` wires it to the process (Ctrl-C, the exit code).
 *
 * Exit codes: 0 done, 1 the job failed (or an eval could not run a task), 2 bad usage or
 * configuration (one line saying what to fix), 130 interrupted.
 */
import { readFile } from "node:fs/promises";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../config/load-config.ts";
import { EvalInputError } from "../eval/eval-input-error.ts";
import { LocalRunError } from "../local/run-local.ts";
import { parseCliArgs, USAGE, USAGE_EXIT_CODE } from "./args.ts";
import { INTERRUPTED_EXIT_CODE, type CliIo } from "./cli-io.ts";
import { evalCommand } from "./eval-command.ts";
import { CliUsageError, runCommand } from "./run-command.ts";

export type { CliIo } from "./cli-io.ts";

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const command = parseCliArgs(argv, { cwd: io.cwd, now: new Date() });
  try {
    switch (command.kind) {
      case "help":
        io.stdout.write(USAGE);
        return 0;
      case "version":
        io.stdout.write(`${await versionOf()}\n`);
        return 0;
      case "usage-error":
        return failWith(io, `${command.message} (running-agent --help shows the usage)`, USAGE_EXIT_CODE);
      case "run":
        return await runCommand(command, io);
      case "eval":
        return await evalCommand(command, io);
    }
  } catch (error) {
    return reportError(io, error);
  }
}

/** Bad input gets one line (or the suite's problems, one line each) and 2; anything else is ours: 1. */
function reportError(io: CliIo, error: unknown): number {
  if (error instanceof EvalInputError) {
    io.stderr.write(`running-agent: ${error.problems.length === 1 ? error.problems[0] : `${error.problems.length} problems:\n${error.problems.map((line) => `  ${line}`).join("\n")}`}\n`);
    return USAGE_EXIT_CODE;
  }
  // ConfigError lists its variables on indented lines: one line reads better in a terminal.
  if (error instanceof LocalRunError || error instanceof ConfigError || error instanceof CliUsageError) return failWith(io, oneLine(error.message), USAGE_EXIT_CODE);
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`running-agent: internal error: ${message}\n${error instanceof Error && error.stack && io.env.LOG_LEVEL === "debug" ? `${error.stack}\n` : ""}`);
  return 1;
}

function failWith(io: CliIo, message: string, code: number): number {
  io.stderr.write(`running-agent: ${message}\n`);
  return code;
}

function oneLine(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

async function versionOf(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return manifest.version ?? "unknown";
}

function processIo(interrupt?: AbortSignal): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), ...(interrupt ? { interrupt } : {}) };
}

/**
 * The command for this process: arguments from argv, Ctrl-C (or SIGTERM, SIGHUP) cancels
 * the running job(s) (a second one quits at once), and the process exits with the command's code once
 * stdout has drained.
 */
export async function runFromCommandLine(): Promise<void> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    process.stderr.write("\nCancelling… (Ctrl-C again to quit at once)\n");
    controller.abort();
  };
  // A closed terminal or a `kill` gets the same clean stop: otherwise the sandbox's processes
  // (in groups of their own) and the throwaway Postgres would outlive the command.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, onInterrupt);
  const code = await main(process.argv.slice(2), processIo(controller.signal));
  for (const signal of signals) process.off(signal, onInterrupt);
  // Exit explicitly: a library's forgotten timer must not keep the command alive after its work.
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(code);
}

if (process.argv[1] !== undefined && realpathOf(process.argv[1]) === fileURLToPath(import.meta.url)) await runFromCommandLine();

function realpathOf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
