/**
 * Commits cross between the sandbox and the worker only as data: a `git bundle` file,
 * written into the sandbox's `.git` or read out of it. The sandbox never reaches a remote
 * with a token; the worker never runs git in the sandbox's repository with one. What comes
 * out is checked by the worker's own git before anything is done with it: a file under a
 * size limit, a bundle of one head, at a commit that descends from the base.
 */
import { rm, writeFile, readFile } from "node:fs/promises";
import path from "node:path";
import { JobError } from "../job-error.ts";
import type { ExecResult, Sandbox } from "./sandbox.ts";
import { hasCommit, workGit, type WorkRepository } from "./work-repository.ts";
import { lastLines } from "./host-git.ts";

/** The most the worker takes out of a sandbox as the agent's work (GitHub refuses files over 100 MB anyway). */
export const MAX_WORK_BUNDLE_BYTES = 256 * 1024 * 1024;

const INCOMING = ".git/running-agent-incoming.bundle";
const OUTGOING = ".git/running-agent-work.bundle";
const RECEIVED_REF = "refs/running-agent/work";

/**
 * The work repository's `sha`, with its history, as `ref` in the sandbox's repository.
 * `has`: commits the sandbox says it has (a hint that saves sending them; a false one only
 * makes its own fetch fail).
 */
export async function sendCommits(sandbox: Sandbox, repository: WorkRepository, input: { sha: string; ref: string; has?: readonly string[] }): Promise<void> {
  const known = [];
  for (const sha of input.has ?? []) if (/^[0-9a-f]{40,64}$/.test(sha) && (await hasCommit(repository, sha))) known.push(sha);
  const missing = await workGit(repository, ["rev-list", "--count", input.sha, ...known.map((sha) => `^${sha}`)]);
  if (missing.exitCode === 0 && missing.stdout.trim() === "0") {
    await inSandbox(sandbox, ["update-ref", input.ref, input.sha], "pointing at a commit the workspace has");
    return;
  }
  try {
    await sandbox.writeFile(INCOMING, await bundleOf(repository, input.sha, known));
    await inSandbox(sandbox, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", INCOMING, `+${BUNDLE_HEAD}:${input.ref}`], "taking the commits into the workspace");
  } finally {
    await sandbox.exec(["rm", "-f", INCOMING]);
  }
}

/** The one head of every bundle `bundleOf` makes: what the sandbox fetches from it. */
export const BUNDLE_HEAD = "refs/running-agent/outgoing";

/** The work repository's `sha` with its history (but what `known` commits hold), as the bytes of a bundle whose one head is `BUNDLE_HEAD`. */
export async function bundleOf(repository: WorkRepository, sha: string, known: readonly string[] = []): Promise<Buffer> {
  const file = path.join(repository.gitDir, "outgoing.bundle");
  try {
    await mustSucceed(await workGit(repository, ["update-ref", BUNDLE_HEAD, sha]), "marking the commits to send");
    await mustSucceed(await workGit(repository, ["bundle", "create", "--quiet", file, BUNDLE_HEAD, ...known.map((commit) => `^${commit}`)], { timeoutMs: 10 * 60_000 }), "bundling the commits for the sandbox");
    return await readFile(file);
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * The sandbox's HEAD, brought out as a bundle of what it adds to `base`, checked, and
 * stored in the work repository. Returns the commit. The sandbox chooses what the bundle
 * holds; the worker decides what it accepts.
 */
export async function receiveWork(sandbox: Sandbox, repository: WorkRepository, input: { base: string; maxBytes?: number }): Promise<string> {
  await inSandbox(sandbox, ["bundle", "create", "--quiet", OUTGOING, "HEAD", `^${input.base}`], "bundling the agent's commits", "agent");
  const file = path.join(repository.gitDir, "incoming.bundle");
  try {
    const bytes = await sandbox.readBytes(OUTGOING, input.maxBytes ?? MAX_WORK_BUNDLE_BYTES).catch((error: unknown) => {
      throw new JobError("push", `the agent's work could not be taken out of the sandbox: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    await writeFile(file, bytes);
    const heads = await workGit(repository, ["bundle", "list-heads", file]);
    const listed = heads.stdout.trim().split("\n").filter((line) => line !== "");
    const head = /^([0-9a-f]{40,64}) HEAD$/.exec(listed[0] ?? "");
    if (heads.exitCode !== 0 || listed.length !== 1 || !head) throw refused(`it is not a bundle of one HEAD (${lastLines(heads.stderr || heads.stdout, 2) || "empty"})`);
    // Newer git fsck-checks a bundle's objects with these; GitHub checks them on the push regardless.
    const fetched = await workGit(repository, ["-c", "fetch.fsckObjects=true", "-c", "transfer.fsckObjects=true", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", file, `+HEAD:${RECEIVED_REF}`], { timeoutMs: 10 * 60_000 });
    if (fetched.exitCode !== 0) throw refused(lastLines(fetched.stderr));
    const sha = head[1]!;
    const received = await workGit(repository, ["rev-parse", "--verify", "--quiet", `${RECEIVED_REF}^{commit}`]);
    if (received.stdout.trim() !== sha) throw refused("its head is not a commit");
    const descends = await workGit(repository, ["merge-base", "--is-ancestor", input.base, sha]);
    if (descends.exitCode !== 0) throw refused(`its commit does not descend from ${input.base.slice(0, 12)}`);
    return sha;
  } finally {
    await rm(file, { force: true });
    await sandbox.exec(["rm", "-f", OUTGOING]);
  }
}

function refused(reason: string): JobError {
  return new JobError("push", `the worker refused the agent's work as it left the sandbox: ${reason}`);
}

async function inSandbox(sandbox: Sandbox, args: string[], what: string, kind: "clone" | "agent" = "clone"): Promise<ExecResult> {
  const result = await sandbox.exec(["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", ...args], { timeoutMs: 10 * 60_000 });
  if (result.exitCode !== 0) throw new JobError(kind, `${what} failed: git ${args[0]}: ${lastLines(result.stderr || result.stdout)}`);
  return result;
}

async function mustSucceed(result: { exitCode: number; stderr: string; stdout: string }, what: string): Promise<void> {
  if (result.exitCode !== 0) throw new JobError("internal", `${what} failed: ${lastLines(result.stderr || result.stdout)}`);
}
