import { cloneRepository, createBranch, credentialsOf, excludeInstallArtifacts, snapshotGitConfig, syncToCommit } from "../sandbox/git-workspace.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Job } from "../store/jobs.sql.ts";
import { runChecks, type Check, type CheckName } from "../verify/run-checks.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { JobError } from "./errors.ts";
import type { JobRun } from "./job-run.ts";
import { claimParkedSandbox, shouldPark } from "./parked-sandbox.ts";
import type { SandboxHolder } from "./sandbox-holder.ts";

/** A job's sandbox with the repository checked out on the job's branch, ready for the agent. */
export interface Workspace {
  sandbox: Sandbox;
  /** `.git/config` as cloned, restored before the token is used again. */
  gitConfig: string;
  /** The build session of the earlier job whose sandbox this is (a resumed follow-up). */
  continueSession?: string;
}

/**
 * The sandbox and checkout a job works in: the one the earlier job on the pull request
 * parked, brought to the branch's head, when there is one; otherwise a new sandbox with a
 * fresh clone (from the mirror when this host has one).
 */
export async function openWorkspace(run: JobRun, sandboxes: SandboxHolder, token: string | null): Promise<Workspace> {
  const job = run.job;
  const parked = readCheckpoint(job).build ? null : await run.step("prepare", () => claimParkedSandbox(run));
  const resumed = parked ? await run.step("prepare", () => sandboxes.resume(job, parked.sandboxId, run.deps.settings.limits)) : null;
  if (parked) await run.event("sandbox", resumed ? `resuming the workspace and agent session of the earlier job (${parked.sandboxId})` : "the earlier job's workspace is gone; starting afresh");
  if (resumed) {
    // Held by this job from now on: the reapers leave a sandbox alone while a job holds it.
    await run.record({ parkedSandboxId: resumed.id });
    const gitConfig = await run.step("prepare", () => resumeCheckout(resumed, job, token));
    return { sandbox: resumed, gitConfig, ...(parked?.sessionId ? { continueSession: parked.sessionId } : {}) };
  }
  // The mirror refreshes while the sandbox starts: neither needs the other.
  const mirror = (job.followUp?.fork || token === null ? undefined : run.deps.mirrors?.refresh({ repoId: job.repoId, url: job.cloneUrl, token, sha: job.baseSha ?? undefined })) ?? Promise.resolve(null);
  const egress = await run.step("prepare", () => run.host.egress(run));
  const sandbox = await run.step("prepare", () => sandboxes.create(job, run.deps.settings.limits, egress));
  const reference = await run.step("prepare", () => mirror);
  const gitConfig = await run.step("prepare", () => cloneCheckout(sandbox, job, { token, reference, botEmail: run.deps.settings.botEmail }));
  return { sandbox, gitConfig };
}

/** At the end: parked for a follow-up when one is likely, destroyed otherwise. */
export async function releaseWorkspace(run: JobRun, sandboxes: SandboxHolder, stopping: AbortSignal): Promise<void> {
  if (!shouldPark(run, stopping)) {
    await sandboxes.destroy();
    if (run.job.parkedSandboxId !== null) await run.record({ parkedSandboxId: null });
    return;
  }
  const parkedId = await sandboxes.park();
  if (parkedId) await run.record({ parkedSandboxId: parkedId });
}

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

/** A parked workspace, brought to the pull request's head: someone may have pushed since. */
async function resumeCheckout(sandbox: Sandbox, job: Job, token: string | null): Promise<string> {
  if (job.baseSha === null) throw new JobError("github", "the pull request's head commit is unknown");
  await syncToCommit(sandbox, { url: job.cloneUrl, branch: job.branch, sha: job.baseSha, ...credentialsOf(token) });
  return snapshotGitConfig(sandbox);
}

async function cloneCheckout(sandbox: Sandbox, job: Job, input: { token: string | null; reference: string | null; botEmail: string }): Promise<string> {
  if (job.baseSha === null) throw new JobError("github", "the base commit of the default branch is unknown");
  const fork = job.followUp?.fork;
  await cloneRepository(sandbox, {
    // A fork is cloned as anyone may, without the token: it is scoped to this repository.
    ...(fork ? { url: fork.cloneUrl, branch: job.branch } : { url: job.cloneUrl, branch: job.baseBranch ?? job.defaultBranch, ...credentialsOf(input.token) }),
    sha: job.baseSha,
    ...(input.reference === null ? {} : { reference: input.reference }),
  });
  await createBranch(sandbox, job.branch, { email: input.botEmail });
  return snapshotGitConfig(sandbox);
}
