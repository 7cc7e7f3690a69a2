/**
 * The project made ready in the checked-out workspace, before the agent starts: its
 * dependencies installed, and the checks that already fail noted (they are not held
 * against the agent).
 */
import { excludeInstallArtifacts } from "../sandbox/git-workspace.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { runChecks, type Check, type CheckName } from "../verify/run-checks.ts";
import type { JobRun } from "./job-run.ts";

/** The project's install command, once; a failure is reported to the agent, not fatal. */
export async function installDependencies(run: JobRun, sandbox: Sandbox, install: string[] | null): Promise<void> {
  if (!install) return;
  const result = await sandbox.exec(install, { timeoutMs: Math.min(run.remainingMs(), 15 * 60_000) });
  // A failed install is reported, not fatal: fixing it may be part of the task.
  const outcome = result.exitCode === 0 ? "dependencies installed" : `\`${install.join(" ")}\` failed with exit code ${result.exitCode}`;
  const excluded = await excludeInstallArtifacts(sandbox);
  await run.event("install", outcome, { output: (result.stdout + result.stderr).slice(-4_000), excludedFromCommit: excluded });
}

/** The checks other than the tests that already fail before the agent changes anything. */
export async function baselineFailures(run: JobRun, sandbox: Sandbox, checks: Check[]): Promise<Set<CheckName>> {
  const results = await runChecks(sandbox, checks.filter((check) => check.name !== "test"), () => run.remainingMs());
  const failing = new Set(results.filter((result) => !result.passed).map((result) => result.name));
  if (failing.size > 0) await run.event("baseline", `already failing before any change (not held against the agent): ${[...failing].join(", ")}`);
  return failing;
}
