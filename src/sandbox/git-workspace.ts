import { JobError } from "../jobs/errors.ts";
import type { ExecResult, Sandbox } from "./sandbox.ts";

/**
 * Git operations on the sandbox's checkout that need the repository token (none for a
 * repository on this machine, `running-agent run`, or a public fork). The token is
 * handed to one git process at a time through GIT_CONFIG_* variables (an
 * `http.extraHeader`), so it is never in `.git/config`, in a command line, or in the
 * environment of anything the agent runs.
 */
export interface GitCredentials {
  token: string;
}

/** Options for git with the repository's token, or none when it needs none (a path on this machine). */
export function credentialsOf(token: string | null): { credentials?: GitCredentials } {
  return token === null ? {} : { credentials: { token } };
}

const BOT_NAME = "running-agent[bot]";

/**
 * `reference`: the path of a bare mirror of the repository (`MirrorCache.refresh`), for the
 * local provider only. The clone is then made from it, falling back to the remote as
 * below when that fails for any reason (no such path, as inside an E2B sandbox).
 */
/** `credentials`: none for a public repository the app has no access to (a fork). */
export async function cloneRepository(sandbox: Sandbox, options: { url: string; branch: string; sha: string; credentials?: GitCredentials; reference?: string }): Promise<void> {
  if (options.reference !== undefined && (await cloneFromMirror(sandbox, { ...options, reference: options.reference }))) return;
  const clone = await git(sandbox, ["clone", "--quiet", "--no-tags", "--branch", options.branch, "--single-branch", options.url, "."], options.credentials, { timeoutMs: 10 * 60_000 });
  if (clone.exitCode !== 0) {
    throw new JobError("clone", `git clone failed: ${lastLines(clone.stderr)}`, { retryable: isTransientGitFailure(clone) });
  }
  await mustSucceed(sandbox, ["checkout", "--quiet", "--detach", options.sha], "clone", "checking out the base commit");
}

/**
 * A plain local clone of the mirror: git hard-links its object files, then the checkout
 * points `origin` at the real remote, and fetches from it only if the mirror lacks `sha`.
 * Measured on 5,000 files and 2,000 commits (`npm run bench:sandbox-ready`, p50, objects
 * only): from the remote 317 ms (file://; GitHub adds the network), `--reference` 23 ms plus
 * a round trip to the remote, `--reference --dissociate` 363 ms (it repacks a copy of every
 * object, so it grows with the repository), `--shared` 15 ms, this 17 ms and no round trip.
 * It is also the safe one: a hard-linked file outlives the mirror's name for it, so the
 * workspace owes the mirror nothing once cloned (with alternates, `--reference` or
 * `--shared`, a mirror re-cloned or pruned mid-job takes objects from under the job), and git
 * never rewrites an object file in place. Writing the checkout's files (208 ms on tmpfs)
 * costs the same either way; across file systems git copies instead of linking.
 * False (and an empty workspace again) when anything fails: the caller clones from the remote.
 */
async function cloneFromMirror(sandbox: Sandbox, options: { url: string; branch: string; sha: string; credentials?: GitCredentials; reference: string }): Promise<boolean> {
  const ok = async (args: string[], credentials?: GitCredentials) => (await git(sandbox, args, credentials, { timeoutMs: 10 * 60_000 })).exitCode === 0;
  const cloned =
    (await ok(["clone", "--quiet", "--no-tags", "--no-checkout", "--branch", options.branch, "--single-branch", options.reference, "."])) &&
    (await ok(["remote", "set-url", "origin", options.url])) &&
    ((await ok(["checkout", "--quiet", "--detach", options.sha])) ||
      ((await ok(["fetch", "--quiet", "--no-tags", "origin", `+refs/heads/${options.branch}:refs/remotes/origin/${options.branch}`], options.credentials)) &&
        (await ok(["checkout", "--quiet", "--detach", options.sha]))));
  if (!cloned) await sandbox.exec(["find", ".", "-mindepth", "1", "-delete"]);
  return cloned;
}

/**
 * A resumed workspace (a parked sandbox) brought to `sha` on `branch`, as a fresh clone
 * would be: fetched if it lacks the commit (someone pushed since), checked out, and
 * cleaned of anything untracked but what is ignored (the dependencies installed before).
 */
export async function syncToCommit(sandbox: Sandbox, options: { url: string; branch: string; sha: string; credentials?: GitCredentials }): Promise<void> {
  const present = await git(sandbox, ["cat-file", "-e", `${options.sha}^{commit}`]);
  if (present.exitCode !== 0) {
    const fetched = await git(sandbox, ["fetch", "--quiet", "--no-tags", options.url, `+refs/heads/${options.branch}:refs/remotes/origin/${options.branch}`], options.credentials, { timeoutMs: 10 * 60_000 });
    if (fetched.exitCode !== 0) throw new JobError("clone", `fetching ${options.branch} into the resumed workspace failed: ${lastLines(fetched.stderr)}`, { retryable: isTransientGitFailure(fetched) });
  }
  await mustSucceed(sandbox, ["checkout", "--quiet", "--force", "-B", options.branch, options.sha], "clone", "checking out the pull request's head");
  await mustSucceed(sandbox, ["clean", "--quiet", "-d", "--force"], "clone", "cleaning the resumed workspace");
}

export async function createBranch(sandbox: Sandbox, branch: string, identity: { name?: string; email: string }): Promise<void> {
  await mustSucceed(sandbox, ["checkout", "--quiet", "-B", branch], "setup", "creating the branch");
  await mustSucceed(sandbox, ["config", "user.name", identity.name ?? BOT_NAME], "setup", "setting the committer");
  await mustSucceed(sandbox, ["config", "user.email", identity.email], "setup", "setting the committer");
}

/** The checkout's config, as cloned; restored before the worker runs git with a token again. */
export async function snapshotGitConfig(sandbox: Sandbox): Promise<string> {
  return sandbox.readFile(`${sandbox.workdir}/.git/config`);
}

/**
 * Undo anything the agent may have done to `.git` that would run code or send the token
 * elsewhere when the worker commits and pushes: hooks, `core.fsmonitor`, `http.proxy`,
 * credential helpers, url rewrites. The agent runs untrusted repository code, so this is
 * not paranoia.
 */
export async function restoreGitConfig(sandbox: Sandbox, config: string): Promise<void> {
  await sandbox.writeFile(`${sandbox.workdir}/.git/config`, config);
  await sandbox.exec(["rm", "-rf", `${sandbox.workdir}/.git/hooks`]);
}

/**
 * Keep what a dependency install wrote out of the agent's commit: files it created (a
 * `node_modules` in a repository without .gitignore, a new lockfile) are excluded
 * locally, and tracked files it rewrote (an updated lockfile) are restored. The price:
 * the agent cannot commit a file of those exact paths (say, the lockfile it was asked to add).
 */
export async function excludeInstallArtifacts(sandbox: Sandbox): Promise<string[]> {
  const status = await mustSucceed(sandbox, ["status", "--porcelain=v1", "-z", "--untracked-files=normal"], "setup", "reading the workspace status");
  const entries = status.stdout.split("\0").filter((entry) => entry.length > 3);
  const created = entries.filter((entry) => entry.startsWith("??")).map((entry) => entry.slice(3));
  const modified = entries.filter((entry) => !entry.startsWith("??")).map((entry) => entry.slice(3));
  if (created.length > 0) {
    const exclude = `${sandbox.workdir}/.git/info/exclude`;
    const existing = await sandbox.readFile(exclude).catch(() => "");
    const patterns = created.map((file) => `/${file.replace(/([*?[\\!#])/g, "\\$1")}`);
    await sandbox.writeFile(exclude, `${existing.trimEnd()}\n# written by the dependency install\n${patterns.join("\n")}\n`);
  }
  if (modified.length > 0) await mustSucceed(sandbox, ["checkout", "--", ...modified], "setup", "restoring files the install changed");
  return [...created, ...modified];
}

export async function hasChanges(sandbox: Sandbox, baseSha: string): Promise<boolean> {
  const status = await mustSucceed(sandbox, ["status", "--porcelain"], "agent", "reading the workspace status");
  if (status.stdout.trim() !== "") return true;
  const ahead = await mustSucceed(sandbox, ["rev-list", "--count", `${baseSha}..HEAD`], "agent", "counting commits");
  return Number(ahead.stdout.trim()) > 0;
}

export async function commitAll(sandbox: Sandbox, message: string): Promise<string> {
  await mustSucceed(sandbox, ["add", "--all"], "agent", "staging the changes");
  const staged = await git(sandbox, ["diff", "--cached", "--quiet"]);
  if (staged.exitCode !== 0) {
    await mustSucceed(sandbox, ["commit", "--quiet", "--no-verify", "--file", "-"], "agent", "committing", message);
  }
  const head = await mustSucceed(sandbox, ["rev-parse", "HEAD"], "agent", "reading HEAD");
  return head.stdout.trim();
}

/**
 * Everything the agent changed since `baseSha`, as a binary patch (stages the work).
 * Written to a file, not read from stdout, whose capture is bounded.
 */
export async function diffAgainst(sandbox: Sandbox, baseSha: string): Promise<string> {
  await mustSucceed(sandbox, ["add", "--all"], "agent", "staging the changes");
  const file = `${sandbox.workdir}/.git/agent-work.patch`;
  await mustSucceed(sandbox, ["diff", "--cached", "--binary", `--output=${file}`, baseSha], "agent", "diffing the work");
  return sandbox.readFile(file);
}

/** Re-apply work saved by `diffAgainst` on a fresh checkout of the same base commit. */
export async function applyPatch(sandbox: Sandbox, patch: string): Promise<void> {
  if (patch.trim() === "") return;
  await mustSucceed(sandbox, ["apply", "--binary", "--index", "--whitespace=nowarn", "-"], "setup", "re-applying the saved work", patch);
}

export async function changedFiles(sandbox: Sandbox, baseSha: string): Promise<string[]> {
  const diff = await mustSucceed(sandbox, ["diff", "--name-only", `${baseSha}..HEAD`], "agent", "listing changed files");
  return diff.stdout.split("\n").filter((line) => line !== "");
}

/**
 * Push without force: a branch someone else moved is a rejection, never an overwrite.
 * With `rebaseIfMoved` (the job builds on a branch people share: a pull request's), a
 * rejection because the branch moved meanwhile is answered once by fetching it and
 * replaying our commits on top, so their commits stay and ours follow. A conflict fails the
 * push and names the files. Returns the commit pushed.
 */
export interface PushOptions {
  url: string;
  branch: string;
  credentials?: GitCredentials;
  rebaseIfMoved?: boolean;
  /** Who else pushes to the branch, and what to do about a conflict with them, for the error. */
  sharedWith?: { who: string; nextStep: string };
}

export async function pushBranch(sandbox: Sandbox, options: PushOptions): Promise<string> {
  const first = await push(sandbox, options);
  if (first.exitCode === 0) return headOf(sandbox);
  if (!options.rebaseIfMoved || !isNonFastForward(first)) throw pushRejected(options.branch, first);
  await rebaseOnRemote(sandbox, options);
  const second = await push(sandbox, options);
  if (second.exitCode !== 0) throw pushRejected(options.branch, second);
  return headOf(sandbox);
}

function push(sandbox: Sandbox, options: { url: string; branch: string; credentials?: GitCredentials }): Promise<ExecResult> {
  return git(sandbox, ["push", "--quiet", "--no-verify", options.url, `HEAD:refs/heads/${options.branch}`], options.credentials, { timeoutMs: 5 * 60_000 });
}

async function rebaseOnRemote(sandbox: Sandbox, options: PushOptions): Promise<void> {
  const fetched = await git(sandbox, ["fetch", "--quiet", "--no-tags", options.url, `+refs/heads/${options.branch}:refs/remotes/pushed/${options.branch}`], options.credentials, { timeoutMs: 5 * 60_000 });
  if (fetched.exitCode !== 0) throw new JobError("push", `fetching ${options.branch} to rebase on it failed: ${lastLines(fetched.stderr)}`, { retryable: isTransientGitFailure(fetched) });
  const rebased = await git(sandbox, ["rebase", "--quiet", `refs/remotes/pushed/${options.branch}`]);
  if (rebased.exitCode === 0) return;
  const conflicts = await git(sandbox, ["diff", "--name-only", "--diff-filter=U"]);
  await git(sandbox, ["rebase", "--abort"]);
  const files = conflicts.stdout.split("\n").filter((line) => line !== "");
  const who = options.sharedWith?.who ?? "someone";
  throw new JobError("push", `${who} pushed to ${options.branch} while the agent worked, and their changes conflict with the agent's${files.length > 0 ? ` in ${files.join(", ")}` : ""}`, {
    nextStep: options.sharedWith?.nextStep ?? "Resolve it on the branch (or revert the conflicting change), then comment `/agent retry`.",
  });
}

function isNonFastForward(result: ExecResult): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|updates were rejected/i.test(result.stderr);
}

function pushRejected(branch: string, result: ExecResult): JobError {
  return new JobError("push", `git push to ${branch} was rejected: ${lastLines(result.stderr)}`, { retryable: isTransientGitFailure(result) });
}

async function headOf(sandbox: Sandbox): Promise<string> {
  const head = await mustSucceed(sandbox, ["rev-parse", "HEAD"], "agent", "reading HEAD");
  return head.stdout.trim();
}

async function mustSucceed(sandbox: Sandbox, args: string[], kind: "clone" | "setup" | "agent", what: string, stdin?: string): Promise<ExecResult> {
  const result = await git(sandbox, args, undefined, stdin === undefined ? {} : { stdin });
  if (result.exitCode !== 0) throw new JobError(kind, `${what} failed: git ${args[0]}: ${lastLines(result.stderr || result.stdout)}`);
  return result;
}

function git(sandbox: Sandbox, args: string[], credentials?: GitCredentials, options: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
  // Hooks and fsmonitor would run workspace code while the token is in this process's env.
  const safety = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "protocol.ext.allow=never"];
  return sandbox.exec(["git", ...safety, ...args], { ...options, env: credentials ? credentialEnv(credentials) : {} });
}

function credentialEnv(credentials: GitCredentials): Record<string, string> {
  const basic = Buffer.from(`x-access-token:${credentials.token}`).toString("base64");
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    GIT_TERMINAL_PROMPT: "0",
  };
}

function isTransientGitFailure(result: ExecResult): boolean {
  if (result.timedOut) return true;
  return /(could not resolve host|connection (timed out|reset|refused)|early EOF|the remote end hung up|HTTP 5\d\d|returned error: 5\d\d|RPC failed)/i.test(result.stderr);
}

/** The end of git's stderr, without its `hint:` paragraphs, which bury the actual error. */
function lastLines(text: string, count = 5): string {
  const lines = text.trim().split("\n").filter((line) => !line.startsWith("hint:"));
  return lines.slice(-count).join("\n");
}
