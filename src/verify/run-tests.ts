import type { Sandbox } from "../sandbox/sandbox.ts";
import { summarizeTestOutput } from "./test-summary.ts";

export interface TestRun {
  /** null when the project has no test command. */
  passed: boolean | null;
  summary: string;
  durationMs: number;
}

const TEST_SUMMARY_CHARS = 6_000;
const MAX_TEST_MS = 20 * 60_000;

export async function runTests(sandbox: Sandbox, command: string[] | null, remainingMs: number): Promise<TestRun> {
  if (!command) return { passed: null, summary: "", durationMs: 0 };
  const result = await sandbox.exec(command, { timeoutMs: Math.min(remainingMs, MAX_TEST_MS) });
  const output = `$ ${command.join(" ")}\n${result.stdout}\n${result.stderr}${result.timedOut ? "\n[the test command was stopped: time limit]" : ""}`;
  return { passed: result.exitCode === 0 && !result.timedOut, summary: summarizeTestOutput(output, TEST_SUMMARY_CHARS), durationMs: result.durationMs };
}
