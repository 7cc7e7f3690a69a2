import type { Sandbox } from "../sandbox/sandbox.ts";
import type { ProjectInfo } from "./detect-project.ts";
import { summarizeTestOutput } from "./test-summary.ts";

export type CheckName = "typecheck" | "build" | "lint" | "test";

export interface Check {
  name: CheckName;
  command: string[];
}

export interface CheckResult extends Check {
  passed: boolean;
  /** Command, output and exit, summarized to a bounded size. */
  output: string;
  durationMs: number;
}

export interface Verification {
  /** Every required check passed (true when there are none). */
  passed: boolean;
  /** The test command's result; null when the project has none. */
  testsPassed: boolean | null;
  results: CheckResult[];
}

const OUTPUT_CHARS = 8_000;
const MAX_CHECK_MS = 20 * 60_000;

/** The project's checks, cheapest and most telling first. Pure. */
export function checksOf(project: ProjectInfo): Check[] {
  const checks: Check[] = [];
  if (project.typecheck) checks.push({ name: "typecheck", command: project.typecheck });
  if (project.build) checks.push({ name: "build", command: project.build });
  if (project.lint) checks.push({ name: "lint", command: project.lint });
  if (project.test) checks.push({ name: "test", command: project.test });
  return checks;
}

export async function runChecks(sandbox: Sandbox, checks: readonly Check[], remainingMs: () => number): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const result = await sandbox.exec(check.command, { timeoutMs: Math.min(remainingMs(), MAX_CHECK_MS) });
    const stopped = result.timedOut ? "\n[the command was stopped: time limit]" : "";
    const output = summarizeTestOutput(`$ ${check.command.join(" ")}\n${result.stdout}\n${result.stderr}${stopped}\n[exit code ${result.exitCode}]`, OUTPUT_CHARS);
    results.push({ ...check, passed: result.exitCode === 0 && !result.timedOut, output, durationMs: result.durationMs });
  }
  return results;
}

/**
 * Judge a round. The agent is held to the tests, and to the other checks that passed
 * before it changed anything: a lint error it did not cause must not cost it its rounds.
 */
export function judgeChecks(results: readonly CheckResult[], failingAtBaseline: ReadonlySet<CheckName>): Verification {
  const required = results.filter((result) => result.name === "test" || !failingAtBaseline.has(result.name));
  const test = results.find((result) => result.name === "test");
  return { passed: required.every((result) => result.passed), testsPassed: test ? test.passed : null, results: [...results] };
}
