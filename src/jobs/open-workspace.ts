import { fileURLToPath } from "node:url";
import { adoptCheckout, cloneRepository, syncToCommit } from "../sandbox/git-workspace.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { closeWorkRepository, ensureCommit, openWorkRepository, type GitRemoteAccess, type WorkRepository } from "../sandbox/work-repository.ts";
import type { Job } from "../store/jobs.sql.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { JobError } from "../job-error.ts";
import type { JobRun } from "./job-run.ts";
import { claimParkedSandbox, shouldPark } from "./parked-sandbox.ts";
import type { SandboxHolder } from "./sandbox-holder.ts";
import type { RepositorySeed, WarmAgent } from "./warm-agents.ts";

/** A job's sandbox with the repository checked out on the job's branch, ready for the agent. */
export interface Workspace {
  sandbox: Sandbox;
  /** The job's own repository on the worker: where the checkout's commits came from, and the agent's are pushed from. Closed by the caller. */
  repository: WorkRepository;
  /** The commit checked out (the job's base, or its pull request's head). */
  commit: string;
  /** The build session of the earlier job whose sandbox this is (a resumed follow-up). */
  continueSession?: string;
  /** The warm agent whose sandbox this is: its opencode is running already. */
  warm?: WarmAgent;
}

/**
 * The sandbox and checkout a job works in: the one the earlier job on the pull request
 * parked, brought to the branch's head, when there is one; otherwise a new sandbox with a
 * fresh checkout. Either way the commits come from the job's work repository, which
 * borrows the mirror's objects when this host has a mirror: the sandbox gets no token.
 */
export async function openWorkspace(run: JobRun, sandboxes: SandboxHolder, token: string | null): Promise<Workspace> {
  const job = run.job;
  const parked = readCheckpoint(job).build ? null : await run.step("prepare", () => claimParkedSandbox(run));
  const resumed = parked ? await run.step("prepare", () => sandboxes.resume(job, parked.sandboxId, run.deps.settings.limits)) : null;
  if (parked) await run.event("sandbox", resumed ? `resuming the workspace and agent session of the earlier job (${parked.sandboxId})` : "the earlier job's workspace is gone; starting afresh");
  // The mirror refreshes while the sandbox starts: neither needs the other.
  const mirror = (job.followUp?.fork || token === null ? undefined : run.deps.mirrors?.refresh({ repoId: job.repoId, url: job.cloneUrl, token, sha: job.baseSha ?? undefined })) ?? Promise.resolve(null);
  if (resumed) {
    // Held by this job from now on: the reapers leave a sandbox alone while a job holds it.
    await run.record({ parkedSandboxId: resumed.id });
    const repository = await run.step("prepare", async () => openRepository(run, objectsFor(job, await mirror)));
    const commit = await run.step("prepare", () => withRepository(repository, () => resumeCheckout(resumed, repository, job, token)));
    return { sandbox: resumed, repository, commit, ...(parked?.sessionId ? { continueSession: parked.sessionId } : {}) };
  }
  const egress = await run.step("prepare", () => run.host.egress(run));
  // A spare has the provider's egress only: a job granted more makes its own sandbox.
  const warm = egress.length === 0 ? (run.deps.warmAgents?.take({ repoId: job.repoId, cloneUrl: job.cloneUrl }) ?? undefined) : undefined;
  const sandbox = await run.step("prepare", () => (warm ? sandboxes.adopt(job, warm.sandbox) : sandboxes.create(job, run.deps.settings.limits, egress)));
  if (warm) await run.event("sandbox", warm.checkout ? `a warm agent (${sandbox.id}): the repository checked out at ${warm.checkout.sha.slice(0, 12)} and opencode booted there before the job` : `a warm agent (${sandbox.id}): its opencode started before the job`);
  const objectsOf = objectsFor(job, await mirror);
  const repository = await run.step("prepare", () => openRepository(run, objectsOf));
  const checkout = { token, botEmail: run.deps.settings.botEmail, spare: warm?.checkout ?? null };
  const { commit, source } = await run.step("prepare", () => withRepository(repository, () => cloneCheckout(sandbox, repository, job, checkout)));
  // The worker's next spares are checkouts of this repository (not of a fork: its commits stay with its jobs).
  if (!job.followUp?.fork && objectsOf !== null) run.deps.warmAgents?.remember({ repoId: job.repoId, cloneUrl: job.cloneUrl, branch: source.branch, sha: commit, objectsOf });
  return { sandbox, repository, commit, ...(warm ? { warm } : {}) };
}

/**
 * A warm agent's checkout of `seed`, made in its workdir before there is a job: from a work
 * repository of its own that borrows the seed's objects (no token, no network), on a branch
 * that the job taking it replaces with its own (`adoptCheckout`).
 */
export async function checkOutForSpare(sandbox: Sandbox, seed: RepositorySeed, input: { workDir: string; botEmail: string }): Promise<void> {
  const repository = await openWorkRepository({ dir: input.workDir, jobId: `spare-${process.pid}`, objectsOf: seed.objectsOf });
  try {
    await cloneRepository(sandbox, repository, { url: seed.cloneUrl, branch: seed.branch, sha: seed.sha, workBranch: SPARE_BRANCH, identity: { email: input.botEmail } });
  } finally {
    await closeWorkRepository(repository);
  }
}

/** A spare's checkout's branch, until its job's replaces it. */
const SPARE_BRANCH = "running-agent/spare";

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

/** The job's work repository, borrowing the objects of `objectsOf` (`objectsFor`). */
async function openRepository(run: JobRun, objectsOf: string | null): Promise<WorkRepository> {
  return openWorkRepository({ dir: run.deps.workDir, jobId: run.job.id, objectsOf });
}

/** Where the job's commits are on this host: the mirror, or the repository itself when it is a path here (`running-agent run`, tests' remotes). */
function objectsFor(job: Job, mirror: string | null): string | null {
  return mirror ?? localPathOf(job.cloneUrl);
}

/** A repository that could not be filled is removed at once: nobody else will. */
async function withRepository<T>(repository: WorkRepository, fill: () => Promise<T>): Promise<T> {
  try {
    return await fill();
  } catch (error) {
    await closeWorkRepository(repository);
    throw error;
  }
}

/** A parked workspace, brought to the pull request's head: someone may have pushed since. */
async function resumeCheckout(sandbox: Sandbox, repository: WorkRepository, job: Job, token: string | null): Promise<string> {
  if (job.baseSha === null) throw new JobError("github", "the pull request's head commit is unknown");
  await ensureCommit(repository, { url: job.cloneUrl, token }, { branch: job.branch, sha: job.baseSha });
  await syncToCommit(sandbox, repository, { branch: job.branch, sha: job.baseSha });
  return job.baseSha;
}

/** The job's base checked out on its branch: cloned afresh, or a warm agent's checkout of the repository (`spare`) brought to it. */
async function cloneCheckout(
  sandbox: Sandbox,
  repository: WorkRepository,
  job: Job,
  input: { token: string | null; botEmail: string; spare: RepositorySeed | null },
): Promise<{ commit: string; source: GitRemoteAccess & { branch: string } }> {
  if (job.baseSha === null) throw new JobError("github", "the base commit of the default branch is unknown");
  const fork = job.followUp?.fork;
  // A fork is fetched as anyone may, without the token: it is scoped to this repository.
  const source: GitRemoteAccess & { branch: string } = fork ? { url: fork.cloneUrl, token: null, branch: job.branch } : { url: job.cloneUrl, token: input.token, branch: job.baseBranch ?? job.defaultBranch };
  await ensureCommit(repository, source, { branch: source.branch, sha: job.baseSha });
  const target = { url: source.url, branch: source.branch, sha: job.baseSha, workBranch: job.branch };
  if (input.spare) await adoptCheckout(sandbox, repository, { ...target, has: input.spare.sha });
  else await cloneRepository(sandbox, repository, { ...target, identity: { email: input.botEmail } });
  return { commit: job.baseSha, source };
}

function localPathOf(url: string): string | null {
  if (url.startsWith("file://")) return fileURLToPath(url);
  return url.startsWith("/") ? url : null;
}
