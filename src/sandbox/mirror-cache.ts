/**
 * A bare mirror of each repository on the worker's host (`DATA_DIR/mirrors/<repoId>.git`),
 * so that a job's clone copies objects from local disk instead of the network
 * (`cloneRepository`'s `reference`). Longer than most files because the lock that keeps two
 * workers on one machine from refreshing the same mirror at once belongs to it alone.
 *
 * What keeps a mirror sound:
 * - A first clone is made in a temporary directory and renamed into place, so a refresh
 *   killed mid-clone never leaves a half-written mirror at the real path.
 * - Every refresh, under the lock, checks that the mirror is a repository whose ref tips
 *   can be read; one that is not (a damaged pack, a stray directory) is cloned again, as is
 *   one whose fetch fails for a reason on our side (a ref lock left by a killed fetch).
 * - Git's own ref locks and atomic pack renames are the second line: if two refreshes ever
 *   overlapped (a lock wrongly judged stale), one fetch fails; neither corrupts the mirror.
 *
 * Only branches are mirrored (`refs/heads/*`), not tags or GitHub's `refs/pull/*`: jobs
 * clone one branch without tags, and on a busy repository the pull refs outnumber the
 * branches a hundred to one. So this is `git init --bare` + `git fetch --prune` rather
 * than `git clone --mirror`, the same fetch the first time and every time after.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { link, mkdir, open, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { createRedactor, redactKnownTokens } from "../redact.ts";
import { lastLines, runHostGit } from "./host-git.ts";

export interface MirrorCache {
  /**
   * The path of a bare mirror of the repository, fetched up to date; null when it could not
   * be made (logged), and the job then clones from the remote as it would without a cache.
   * Never throws.
   */
  refresh(request: MirrorRequest): Promise<string | null>;
}

export interface MirrorRequest {
  /** GitHub's repository id: stable across renames and transfers, and a safe file name. */
  repoId: number | string;
  /** The clone URL, without credentials. */
  url: string;
  /** The repository token: handed to one git command at a time, never written into the mirror. */
  token: string;
  /** The commit the job needs. When the mirror already has it, nothing is fetched (no network round trip). */
  sha?: string;
}

export interface MirrorCacheOptions {
  /** Where mirrors live: `DATA_DIR/mirrors`, on the same file system as the sandboxes so clones can hard-link. */
  dir: string;
  log: Logger;
  /** How long a refresh waits for another process's refresh of the same repository before giving up. */
  lockTimeoutMs?: number;
  /** A lock whose holder stopped touching it this long ago (or whose process is gone) is taken over. */
  staleLockMs?: number;
  /** Limit for each git command (a first clone of a big repository is the long one). */
  gitTimeoutMs?: number;
}

const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function createMirrorCache(options: MirrorCacheOptions): MirrorCache {
  // Absolute: the path is handed to git running in a sandbox, whose working directory differs.
  const settings = { lockTimeoutMs: 10 * 60_000, staleLockMs: 60_000, gitTimeoutMs: 15 * 60_000, ...options, dir: path.resolve(options.dir) };
  // One refresh per repository at a time in this process, and at most one more queued
  // behind it that every later caller shares: the queued one starts after they asked, so
  // it sees what they need, and a burst of jobs costs two fetches, not one each.
  const queues = new Map<string, { running: Promise<string | null>; next?: Promise<string | null> }>();

  const attempt = async (request: MirrorRequest, useSha: boolean): Promise<string | null> => {
    const log = options.log.child({ repoId: request.repoId });
    const redact = createRedactor([request.token]);
    try {
      if (!SAFE_ID.test(String(request.repoId))) throw new Error(`the repository id ${JSON.stringify(request.repoId)} is not a safe file name`);
      return await refreshMirror({ ...settings, log }, useSha ? request : { ...request, sha: undefined });
    } catch (error) {
      log.warn({ err: redactKnownTokens(redact(error instanceof Error ? error.message : String(error))) }, "the repository mirror could not be refreshed; cloning from the remote");
      return null;
    }
  };

  return {
    refresh(request) {
      const key = String(request.repoId);
      const queue = queues.get(key);
      if (queue) return (queue.next ??= queue.running.then(() => advance(key, request)));
      const running = attempt(request, true);
      queues.set(key, { running });
      void running.then(() => settle(key, running));
      return running;
    },
  };

  function advance(key: string, request: MirrorRequest): Promise<string | null> {
    const running = attempt(request, false);
    queues.set(key, { running });
    void running.then(() => settle(key, running));
    return running;
  }

  function settle(key: string, finished: Promise<string | null>): void {
    const queue = queues.get(key);
    if (queue?.running === finished && queue.next === undefined) queues.delete(key);
  }
}

interface RefreshSettings {
  dir: string;
  log: Logger;
  lockTimeoutMs: number;
  staleLockMs: number;
  gitTimeoutMs: number;
}

async function refreshMirror(settings: RefreshSettings, request: MirrorRequest): Promise<string> {
  const { dir, log } = settings;
  const id = String(request.repoId);
  const mirror = path.join(dir, `${id}.git`);
  // Readers need no lock: git updates refs atomically, after the objects they name.
  if (request.sha !== undefined && (await isHealthy(mirror)) && (await hasCommit(mirror, request.sha))) {
    log.debug("the mirror already has the commit");
    return mirror;
  }
  await mkdir(dir, { recursive: true });
  const lock = await acquireLock(path.join(dir, `${id}.lock`), settings);
  try {
    await removeLeftovers(dir, id);
    if (await isHealthy(mirror)) {
      const fetched = await fetchInto(mirror, request, settings.gitTimeoutMs);
      if (fetched.ok) {
        log.info("mirror fetched");
        return mirror;
      }
      if (fetched.remote) throw new Error(`git fetch failed: ${fetched.error}`);
      log.warn({ err: fetched.error }, "the mirror could not be fetched into; cloning it again");
    } else if (await exists(mirror)) {
      log.warn("the mirror is damaged or half-written; cloning it again");
    }
    await cloneMirror(mirror, request, settings.gitTimeoutMs);
    log.info("mirror cloned");
    return mirror;
  } finally {
    await lock.release();
  }
}

/** A fresh mirror in a temporary directory, renamed over the old one only once complete. */
async function cloneMirror(mirror: string, request: MirrorRequest, timeoutMs: number): Promise<void> {
  const fresh = `${mirror}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    const init = await runHostGit(["init", "--quiet", "--bare", fresh], { timeoutMs });
    if (init.exitCode !== 0) throw new Error(`git init failed: ${lastLines(init.stderr)}`);
    const fetched = await fetchInto(fresh, request, timeoutMs);
    if (!fetched.ok) throw new Error(`git fetch failed: ${fetched.error}`);
    const trash = `${mirror}.old-${randomBytes(4).toString("hex")}`;
    await rename(mirror, trash).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    await rename(fresh, mirror);
    await rm(trash, { recursive: true, force: true });
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}

async function fetchInto(gitDir: string, request: MirrorRequest, timeoutMs: number): Promise<{ ok: true } | { ok: false; remote: boolean; error: string }> {
  const args = ["--git-dir", gitDir, "fetch", "--quiet", "--prune", "--no-tags", "--no-write-fetch-head", request.url, "+refs/heads/*:refs/heads/*"];
  const result = await runHostGit(args, { token: request.token, timeoutMs });
  if (result.exitCode === 0) return { ok: true };
  // Whether cloning again could help: not when the remote is unreachable or refuses us.
  const remote = result.timedOut || /(could not resolve|unable to access|connection|timed out|authentication|not found|could not read from remote|does not appear to be a git repository|HTTP \d{3}|returned error|early EOF|hung up|RPC failed)/i.test(result.stderr);
  return { ok: false, remote, error: lastLines(result.stderr) };
}

/** A repository whose ref tips can all be read: catches a half-written directory, a lost or truncated pack, a garbled ref. */
async function isHealthy(gitDir: string): Promise<boolean> {
  const bare = await runHostGit(["--git-dir", gitDir, "rev-parse", "--is-bare-repository"], { timeoutMs: 60_000 });
  if (bare.exitCode !== 0 || bare.stdout.trim() !== "true") return false;
  const tips = await runHostGit(["--git-dir", gitDir, "rev-list", "--no-walk", "--all"], { timeoutMs: 60_000 });
  return tips.exitCode === 0;
}

async function hasCommit(gitDir: string, sha: string): Promise<boolean> {
  const result = await runHostGit(["--git-dir", gitDir, "cat-file", "-e", `${sha}^{commit}`], { timeoutMs: 60_000 });
  return result.exitCode === 0;
}

/** Temporary clones and set-aside mirrors of refreshes that were killed; only ever touched under the lock. */
async function removeLeftovers(dir: string, id: string): Promise<void> {
  const entries = await readdir(dir);
  const leftover = entries.filter((name) => name.startsWith(`${id}.git.tmp-`) || name.startsWith(`${id}.git.old-`));
  await Promise.all(leftover.map((name) => rm(path.join(dir, name), { recursive: true, force: true })));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

// ---- the lock: one file per repository, created exclusively ----

interface Lock {
  release(): Promise<void>;
}

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

/**
 * `open(…, "wx")` makes exactly one creator win. The holder touches the file while it
 * works; a lock not touched for `staleLockMs`, or held by a process of this host that is
 * gone, is taken over. Taking over renames the file aside first and checks that what was
 * moved is the lock judged stale: a lock taken in between is put back. Waiting is polling
 * with backoff (a watcher would miss a lock that dies without being released).
 */
async function acquireLock(file: string, settings: RefreshSettings): Promise<Lock> {
  const me: LockOwner = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString("hex") };
  const deadline = Date.now() + settings.lockTimeoutMs;
  let delayMs = 20;
  let logged = false;
  for (;;) {
    if (await tryCreateLock(file, me)) return holdLock(file, me, settings.staleLockMs);
    if (await takeOverIfStale(file, settings.staleLockMs)) continue;
    if (Date.now() >= deadline) {
      throw new Error(`another refresh of this repository has held ${file} for over ${settings.lockTimeoutMs} ms (${(await readFile(file, "utf8").catch(() => "gone")).trim()})`);
    }
    if (!logged) settings.log.info({ lock: file }, "waiting for another refresh of this repository");
    logged = true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, Math.max(0, deadline - Date.now()))));
    delayMs = Math.min(delayMs * 2, 500);
  }
}

async function tryCreateLock(file: string, me: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(me));
  } catch (error) {
    // A full disk makes the file but not its owner; left, that nameless lock would make every refresh wait a minute to call it stale.
    await handle.close();
    await rm(file, { force: true });
    throw error;
  }
  await handle.close();
  return true;
}

function holdLock(file: string, me: LockOwner, staleLockMs: number): Lock {
  const touch = setInterval(
    () => {
      const now = new Date();
      utimes(file, now, now).catch(() => {});
    },
    Math.max(50, staleLockMs / 4),
  ).unref();
  return {
    async release() {
      clearInterval(touch);
      // Remove it only if it is still ours (it may have been taken over as stale).
      const owner = parseOwner(await readFile(file, "utf8").catch(() => ""));
      if (owner?.nonce === me.nonce) await rm(file, { force: true });
    },
  };
}

async function takeOverIfStale(file: string, staleLockMs: number): Promise<boolean> {
  const seen = await readLock(file);
  if (seen === null || !isStale(seen, staleLockMs)) return false;
  const aside = `${file}.stale-${randomBytes(4).toString("hex")}`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  // Someone took the lock between our read and the rename: give it back (link fails only
  // if yet another process created one since, and then git's own locks are what is left).
  if (moved !== seen.text) await link(aside, file).catch(() => {});
  await rm(aside, { force: true });
  return true;
}

async function readLock(file: string): Promise<{ text: string; mtimeMs: number } | null> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { text, mtimeMs: info.mtimeMs };
  } catch {
    return null;
  }
}

function isStale(lock: { text: string; mtimeMs: number }, staleLockMs: number): boolean {
  if (Date.now() - lock.mtimeMs > staleLockMs) return true;
  // An unreadable owner is a lock being written: only its age can condemn it.
  const owner = parseOwner(lock.text);
  return owner !== null && owner.host === hostname() && !isProcessAlive(owner.pid);
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    return typeof value.pid === "number" && typeof value.host === "string" && typeof value.nonce === "string" ? (value as LockOwner) : null;
  } catch {
    return null;
  }
}

/** Whether a process of this machine runs (a zombie does not: it answers signals and holds nothing). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed worker its parent has not reaped yet is a zombie: it answers signals and holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return true;
  }
}
