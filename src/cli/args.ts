/**
 * Reading the command line of `running-agent run|eval`. Pure: the caller reads files and
 * runs the command. Bad usage comes back as a `usage-error` with a one-line reason (exit
 * code 2), never as a throw.
 *
 * node:util parseArgs is used in its lenient mode for the tokens only: its strict errors
 * run to three lines and talk about `--` escapes, so the checks below are our own.
 */
import path from "node:path";
import { parseArgs } from "node:util";

/** opencode model ids, `provider/model`; unset ones fall back to the configured defaults. */
export interface ModelChoice {
  explore?: string;
  plan?: string;
  build?: string;
}

/** Limits a run or each task of an eval gets; null keeps the configured default. */
export interface RunLimits {
  maxCostUsd: number | null;
  maxIterations: number | null;
}

/** Where the task text comes from: the argument itself, or a file the caller reads (then `checkTaskText`). */
export type TaskSource = { from: "argument"; text: string } | { from: "file"; path: string };

export type CliCommand =
  | { kind: "help" }
  | { kind: "version" }
  | ({ kind: "run"; repo: string; task: TaskSource; base: string | null; models: ModelChoice; json: boolean } & RunLimits)
  | ({ kind: "eval"; suite: string; concurrency: number; out: string; compare: string | null; only: string[] | null; models: ModelChoice } & RunLimits)
  | UsageError;

export interface UsageError {
  kind: "usage-error";
  message: string;
}

export const USAGE_EXIT_CODE = 2;

export const USAGE = `Usage:
  running-agent run [--repo <path>] "<task>" | --task-file <path> [options]
  running-agent eval <suite> [--concurrency <n>] [--out <dir>] [--compare <old.json>] [--only <id,…>] [options]
  running-agent help | --help | --version

run: works on a copy of the repository and leaves the commits on a branch agent/<slug>;
your working tree and current branch are not touched.
  --repo <path>            the repository (default: the current directory)
  --task-file <path>       read the task from a file instead of the argument
  --base <ref>             start from this ref (default: HEAD)
  --json                   print the job as JSON (as GET /api/jobs/:id) on stdout;
                           the summary goes to stderr then

eval: runs every task of a suite folder and writes report.json and report.md.
  --concurrency <n>        tasks run at once (default 1)
  --out <dir>              where the report goes (default eval-results/<timestamp>)
  --compare <old.json>     show what got better or worse since an earlier report
                           (appended to report.md; a regression makes the exit code 1)
  --only <id,…>            run only these tasks

options:
  --model-explore, --model-plan, --model-build <provider/model>
  --max-cost <usd>         stop a job once its model cost passes this
  --max-iterations <n>     build-and-verify rounds at most

Exit codes:
  run:   0 when the checks pass, 1 when they do not (or the job failed)
  eval:  0 when every task ran, whatever its check said (the success rate is printed);
         1 when a task could not run, or with --compare when a task that succeeded
         in the old report fails now
  both:  2 for bad usage or configuration, 130 when interrupted (Ctrl-C)
`;

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

const SHARED_OPTIONS: OptionSpec = {
  "model-explore": { type: "string" },
  "model-plan": { type: "string" },
  "model-build": { type: "string" },
  "max-cost": { type: "string" },
  "max-iterations": { type: "string" },
  help: { type: "boolean", short: "h" },
};
const RUN_OPTIONS: OptionSpec = { ...SHARED_OPTIONS, repo: { type: "string" }, "task-file": { type: "string" }, base: { type: "string" }, json: { type: "boolean" } };
const EVAL_OPTIONS: OptionSpec = { ...SHARED_OPTIONS, concurrency: { type: "string" }, out: { type: "string" }, compare: { type: "string" }, only: { type: "string" } };

const MODEL_ID = /^[^/\s]+\/\S+$/;
const POSITIVE_NUMBER = /^(\d+(\.\d*)?|\.\d+)$/;
const POSITIVE_INTEGER = /^\d+$/;

/** The command `argv` (without `node` and the script) asks for. Paths come back absolute, resolved against `cwd`. */
export function parseCliArgs(argv: readonly string[], context: { cwd: string; now: Date }): CliCommand {
  const [command, ...rest] = argv;
  if (command === undefined) return usageError("no command given; expected run or eval");
  if (command === "help" || command === "--help" || command === "-h") return { kind: "help" };
  if (command === "--version") return { kind: "version" };
  if (command === "run") return parseRun(rest, context.cwd);
  if (command === "eval") return parseEval(rest, context);
  return usageError(`unknown command ${JSON.stringify(command)}; expected run or eval`);
}

/** The task text of a `--task-file`, or the usage error when there is nothing in it. */
export function checkTaskText(text: string, file: string): UsageError | null {
  return text.trim() === "" ? usageError(`the task file ${file} is empty`) : null;
}

function parseRun(args: readonly string[], cwd: string): CliCommand {
  const read = readOptions(args, RUN_OPTIONS);
  if (isUsageError(read)) return read;
  const { values, positionals } = read;
  if (values.has("help")) return { kind: "help" };
  const taskFile = stringOption(values, "task-file");
  if (positionals.length > 1) return usageError(`give the task as one quoted argument (got ${positionals.length} arguments)`);
  const [text] = positionals;
  if (text !== undefined && taskFile !== null) return usageError("give the task either as an argument or with --task-file, not both");
  if (text === undefined && taskFile === null) return usageError('no task given; write it in quotes ("…") or pass --task-file <path>');
  if (text !== undefined && text.trim() === "") return usageError("the task is empty");
  const shared = readShared(values);
  if (isUsageError(shared)) return shared;
  return {
    kind: "run",
    repo: path.resolve(cwd, stringOption(values, "repo") ?? "."),
    task: taskFile === null ? { from: "argument", text: text!.trim() } : { from: "file", path: path.resolve(cwd, taskFile) },
    base: stringOption(values, "base"),
    json: values.has("json"),
    ...shared,
  };
}

function parseEval(args: readonly string[], context: { cwd: string; now: Date }): CliCommand {
  const read = readOptions(args, EVAL_OPTIONS);
  if (isUsageError(read)) return read;
  const { values, positionals } = read;
  if (values.has("help")) return { kind: "help" };
  if (positionals.length === 0) return usageError("no suite given; expected running-agent eval <suite folder>");
  if (positionals.length > 1) return usageError(`expected one suite folder, got ${positionals.length}: ${positionals.join(" ")}`);
  const concurrency = integerOption(values, "concurrency");
  if (isUsageError(concurrency)) return concurrency;
  const only = listOption(values, "only");
  if (isUsageError(only)) return only;
  const shared = readShared(values);
  if (isUsageError(shared)) return shared;
  const compare = stringOption(values, "compare");
  return {
    kind: "eval",
    suite: path.resolve(context.cwd, positionals[0]),
    concurrency: concurrency ?? 1,
    out: path.resolve(context.cwd, stringOption(values, "out") ?? path.join("eval-results", timestampOf(context.now))),
    compare: compare === null ? null : path.resolve(context.cwd, compare),
    only: only === null ? null : only.ids,
    ...shared,
  };
}

function readShared(values: ReadonlyMap<string, string | true>): ({ models: ModelChoice } & RunLimits) | UsageError {
  const models: ModelChoice = {};
  for (const agent of ["explore", "plan", "build"] as const) {
    const id = stringOption(values, `model-${agent}`);
    if (id === null) continue;
    if (!MODEL_ID.test(id)) return usageError(`--model-${agent} must be provider/model (like anthropic/claude-sonnet-4), got ${JSON.stringify(id)}`);
    models[agent] = id;
  }
  const maxCost = stringOption(values, "max-cost");
  if (maxCost !== null && (!POSITIVE_NUMBER.test(maxCost) || Number(maxCost) <= 0)) return usageError(`--max-cost must be a positive number of US dollars, got ${JSON.stringify(maxCost)}`);
  const maxIterations = integerOption(values, "max-iterations");
  if (isUsageError(maxIterations)) return maxIterations;
  return { models, maxCostUsd: maxCost === null ? null : Number(maxCost), maxIterations };
}

/** The options and positionals, or the first problem: unknown option, missing value, value where none belongs, an option given twice. */
function readOptions(args: readonly string[], spec: OptionSpec): { values: Map<string, string | true>; positionals: string[] } | UsageError {
  const { tokens } = parseArgs({ args: [...args], options: spec, allowPositionals: true, strict: false, tokens: true });
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const option = Object.hasOwn(spec, token.name) ? spec[token.name] : undefined;
    if (option === undefined) return usageError(`unknown option ${token.rawName}`);
    if (values.has(token.name)) return usageError(`${token.rawName} is given more than once`);
    if (option.type === "boolean") {
      if (token.value !== undefined) return usageError(`${token.rawName} takes no value`);
      values.set(token.name, true);
      continue;
    }
    // parseArgs takes the next argument as the value even when it is another option (`--repo --json`).
    const value = token.value;
    if (value === undefined || value === "" || (!token.inlineValue && value.startsWith("-") && value !== "-")) return usageError(`${token.rawName} needs a value`);
    values.set(token.name, value);
  }
  return { values, positionals };
}

function stringOption(values: ReadonlyMap<string, string | true>, name: string): string | null {
  const value = values.get(name);
  return typeof value === "string" ? value : null;
}

function integerOption(values: ReadonlyMap<string, string | true>, name: string): number | null | UsageError {
  const text = stringOption(values, name);
  if (text === null) return null;
  const value = Number(text);
  if (!POSITIVE_INTEGER.test(text) || value < 1 || !Number.isSafeInteger(value)) return usageError(`--${name} must be a whole number of at least 1, got ${JSON.stringify(text)}`);
  return value;
}

function listOption(values: ReadonlyMap<string, string | true>, name: string): { ids: string[] } | UsageError | null {
  const text = stringOption(values, name);
  if (text === null) return null;
  const ids = [...new Set(text.split(",").map((id) => id.trim()).filter((id) => id !== ""))];
  return ids.length === 0 ? usageError(`--${name} needs at least one task id`) : { ids };
}

/** `2026-11-24T10-00-00Z`: sortable, and free of the colons some file systems refuse. */
function timestampOf(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}

export function isUsageError(value: unknown): value is UsageError {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "usage-error";
}

function usageError(message: string): UsageError {
  return { kind: "usage-error", message };
}
