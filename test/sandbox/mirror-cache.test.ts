/**
 * The mirror cache against local bare repositories (how a work repository borrows from
 * it: `work-repository.test.ts`). Concurrency across processes is tested
 * with a second Node process; locks are made stale by backdating, never by waiting.
 */
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMirrorCache, type MirrorCacheOptions } from "../../src/sandbox/mirror-cache.ts";
import { createGitRemote, GREETING_PROJECT, type GitRemote } from "../support/git-remote.ts";
import { waitUntil } from "../support/wait-until.ts";

const TOKEN = "ghs_MirrorCacheTestToken0123456789abcdefXYZ";
const REPO_ID = 4242;

let root: string;
let mirrors: string;
let remote: GitRemote;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "ra-mirror-"));
  mirrors = path.join(root, "mirrors");
  remote = await createGitRemote(GREETING_PROJECT);
});
afterEach(async () => {
  await remote.cleanup();
  await rm(root, { recursive: true, force: true });
});

describe("MirrorCache.refresh", () => {
  it("creates a bare mirror of the remote's branches the first time", async () => {
    const { cache, messages } = newCache();

    const mirror = await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN });

    expect(mirror).toBe(path.join(mirrors, `${REPO_ID}.git`));
    expect(gitIn(mirror!, "rev-parse", "--is-bare-repository")).toBe("true");
    expect(gitIn(mirror!, "rev-parse", "refs/heads/main")).toBe(remote.headSha);
    expect(messages()).toContain("mirror cloned");
    expect(await readdir(mirrors)).toEqual([`${REPO_ID}.git`]);
  });

  it("sees a commit pushed to the remote since, and drops a deleted branch", async () => {
    const { cache, messages } = newCache();
    const mirror = (await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN }))!;
    const pushed = await commitToRemote(remote, { "CHANGELOG.md": "# 1.0.1\n" });
    await commitToRemote(remote, { "feature.txt": "wip\n" }, "feature");
    await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN });
    expect(gitIn(mirror, "rev-parse", "refs/heads/feature")).toMatch(/^[0-9a-f]{40}$/);

    remote.git("branch", "-D", "feature");
    expect(await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN })).toBe(mirror);

    expect(gitIn(mirror, "rev-parse", "refs/heads/main")).toBe(pushed);
    expect(gitIn(mirror, "for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
    expect(messages().filter((message) => message === "mirror fetched")).toHaveLength(2);
  });

  it("does not go to the remote when the mirror already has the commit asked for", async () => {
    const { cache } = newCache();
    await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN });

    const unreachable = `file://${path.join(root, "gone.git")}`;
    expect(await cache.refresh({ repoId: REPO_ID, url: unreachable, token: TOKEN, sha: remote.headSha })).toBe(path.join(mirrors, `${REPO_ID}.git`));
    expect(await cache.refresh({ repoId: REPO_ID, url: unreachable, token: TOKEN, sha: "1".repeat(40) })).toBeNull();
  });

  it("never writes the token into the mirror or the logs", async () => {
    const { cache, lines } = newCache();
    await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN });
    await commitToRemote(remote, { "CHANGELOG.md": "# 1.0.1\n" });
    const mirror = (await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN }))!;
    await cache.refresh({ repoId: REPO_ID, url: `file://${path.join(root, "gone.git")}`, token: TOKEN });

    const forms = [TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString("base64"), Buffer.from(TOKEN).toString("base64").slice(0, 40)];
    const files = await filesUnder(mirrors);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const content = await readFile(file, "latin1");
      for (const form of forms) expect(content.includes(form), `${form} in ${file}`).toBe(false);
    }
    expect(gitIn(mirror, "config", "--list", "--local")).not.toMatch(/extraheader|authorization/i);
    const logged = JSON.stringify(lines);
    for (const form of forms) expect(logged).not.toContain(form);
  });

  it("returns null and logs when the remote cannot be fetched, leaving no lock behind", async () => {
    const { cache, lines } = newCache();

    const mirror = await cache.refresh({ repoId: REPO_ID, url: `file://${path.join(root, "gone.git")}`, token: TOKEN });

    expect(mirror).toBeNull();
    const warning = lines.find((line) => line.level === 40);
    expect(warning).toMatchObject({ repoId: REPO_ID, msg: "the repository mirror could not be refreshed; cloning from the remote" });
    expect(String(warning?.err)).toMatch(/does not appear to be a git repository/);
    expect(await readdir(mirrors)).toEqual([]);
  });

  it("refuses a repository id that would climb out of the directory", async () => {
    const { cache } = newCache();

    expect(await cache.refresh({ repoId: "../escaped", url: remote.url, token: TOKEN })).toBeNull();
    expect(existsSync(path.join(root, "escaped.git"))).toBe(false);
  });

  it("shares the work between concurrent refreshes in one process", async () => {
    const { cache, messages } = newCache();

    const results = await Promise.all([1, 2, 3].map(() => cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN })));

    expect(new Set(results)).toEqual(new Set([path.join(mirrors, `${REPO_ID}.git`)]));
    // The first clones; the two that came during it share one fetch that starts after it.
    expect(messages().filter((message) => message.startsWith("mirror "))).toEqual(["mirror cloned", "mirror fetched"]);
  });

  it("lets two processes refresh one repository one after the other", async () => {
    const { cache, messages } = newCache();
    // Hold the lock so both refreshes are certainly waiting at once when it is let go.
    const lockFile = path.join(mirrors, `${REPO_ID}.lock`);
    await mkdir(mirrors, { recursive: true });
    await writeFile(lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: "held-by-the-test" }));
    const other = startRefreshProcess(mirrors, remote.url, REPO_ID);
    const here = cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN });
    const waiting = "waiting for another refresh of this repository";
    await waitUntil(() => messages().includes(waiting) && other.messages().includes(waiting), { what: "both refreshes to wait for the lock" });

    await rm(lockFile);
    const [mine, theirs] = await Promise.all([here, other.result]);

    const mirror = path.join(mirrors, `${REPO_ID}.git`);
    expect(mine).toBe(mirror);
    expect(theirs).toBe(mirror);
    const done = [...messages(), ...other.messages()].filter((message) => message.startsWith("mirror ")).sort();
    expect(done).toEqual(["mirror cloned", "mirror fetched"]);
    expect(gitIn(mirror, "fsck", "--no-progress")).toBe("");
    expect(await readdir(mirrors)).toEqual([`${REPO_ID}.git`]);
  });

  it("takes over a lock whose process is gone", async () => {
    const { cache } = newCache({ lockTimeoutMs: 10_000 });
    const gone = spawnSync("true").pid;
    await mkdir(mirrors, { recursive: true });
    await writeFile(path.join(mirrors, `${REPO_ID}.lock`), JSON.stringify({ pid: gone, host: os.hostname(), nonce: "dead" }));

    expect(await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN })).toBe(path.join(mirrors, `${REPO_ID}.git`));
    expect(existsSync(path.join(mirrors, `${REPO_ID}.lock`))).toBe(false);
  });

  it("takes over a lock from another machine only once nobody has touched it for staleLockMs", async () => {
    const { cache, lines } = newCache({ lockTimeoutMs: 300, staleLockMs: 60_000 });
    const lockFile = path.join(mirrors, `${REPO_ID}.lock`);
    await mkdir(mirrors, { recursive: true });
    await writeFile(lockFile, JSON.stringify({ pid: 1, host: "another-worker", nonce: "live" }));

    expect(await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN })).toBeNull();
    expect(String(lines.find((line) => line.level === 40)?.err)).toMatch(/has held .*\.lock for over 300 ms/);
    expect(existsSync(lockFile)).toBe(true);

    const longAgo = new Date(Date.now() - 5 * 60_000);
    await utimes(lockFile, longAgo, longAgo);
    expect(await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN })).toBe(path.join(mirrors, `${REPO_ID}.git`));
  });

  const damages: Array<[string, (mirror: string) => Promise<void>]> = [
    ["its objects are lost", async (mirror) => {
      for (const entry of await readdir(path.join(mirror, "objects"))) await rm(path.join(mirror, "objects", entry), { recursive: true });
    }],
    ["its HEAD is garbage", (mirror) => writeFile(path.join(mirror, "HEAD"), "garbage\n")],
    ["a killed fetch left a ref locked", (mirror) => writeFile(path.join(mirror, "refs", "heads", "main.lock"), "")],
    ["a clone was killed half-way (and its temporary directory left)", async (mirror) => {
      await rm(mirror, { recursive: true });
      await mkdir(path.join(mirror, "objects"), { recursive: true });
      await writeFile(path.join(mirror, "config"), "[core]\n\tbare = true\n");
      await mkdir(`${mirror}.tmp-0badc0de/objects`, { recursive: true });
    }],
  ];
  it.each(damages)("clones the mirror again when %s", async (_, damage) => {
    const { cache, messages } = newCache();
    const mirror = (await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN }))!;
    await damage(mirror);
    const pushed = await commitToRemote(remote, { "CHANGELOG.md": "# 1.0.1\n" });

    expect(await cache.refresh({ repoId: REPO_ID, url: remote.url, token: TOKEN })).toBe(mirror);

    expect(gitIn(mirror, "rev-parse", "refs/heads/main")).toBe(pushed);
    expect(gitIn(mirror, "fsck", "--no-progress")).toBe("");
    expect(messages().filter((message) => message === "mirror cloned")).toHaveLength(2);
    expect(await readdir(mirrors)).toEqual([`${REPO_ID}.git`]);
  });
});

// ---- helpers ----

function newCache(options: Partial<MirrorCacheOptions> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const cache = createMirrorCache({ dir: mirrors, log, ...options });
  return { cache, lines, messages: () => lines.map((line) => String(line.msg)) };
}

function gitIn(gitDir: string, ...args: string[]): string {
  return execFileSync("git", ["--git-dir", gitDir, ...args], { encoding: "utf8", stdio: "pipe", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
}

/** Commit `files` on `branch` of the remote (created from main when new) and push; returns the new commit. */
async function commitToRemote(target: GitRemote, files: Record<string, string>, branch = "main"): Promise<string> {
  const work = await mkdtemp(path.join(root, "push-"));
  const run = (...args: string[]) => execFileSync("git", args, { cwd: work, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
  try {
    run("clone", "--quiet", target.bareDir, ".");
    run("checkout", "--quiet", "-B", branch);
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(work, file), content);
    run("add", "--all");
    run("-c", "user.name=Pusher", "-c", "user.email=pusher@example.com", "commit", "--quiet", "-m", `Change ${Object.keys(files).join(", ")}`);
    run("push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
    return run("rev-parse", "HEAD");
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** `refresh` in another Node process (another worker on this machine), logging JSON lines to its stdout. */
function startRefreshProcess(dir: string, url: string, repoId: number): { result: Promise<string | null>; messages(): string[] } {
  const moduleUrl = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/sandbox/mirror-cache.ts")).href;
  const pinoUrl = pathToFileURL(createRequire(import.meta.url).resolve("pino")).href;
  const script = [
    `import pino from ${JSON.stringify(pinoUrl)};`,
    `import { createMirrorCache } from ${JSON.stringify(moduleUrl)};`,
    `const cache = createMirrorCache({ dir: ${JSON.stringify(dir)}, log: pino({ level: "debug" }, pino.destination({ sync: true })) });`,
    `const mirror = await cache.refresh({ repoId: ${repoId}, url: ${JSON.stringify(url)}, token: ${JSON.stringify(TOKEN)} });`,
    `console.log(JSON.stringify({ mirror }));`,
  ].join("\n");
  const child = spawn(process.execPath, ["--input-type=module", "--eval", script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const parsed = () =>
    stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { msg?: string; mirror?: string | null });
  const result = new Promise<string | null>((resolve, reject) => {
    child.once("close", (code) => {
      const outcome = parsed().find((line) => "mirror" in line);
      if (code === 0 && outcome) resolve(outcome.mirror ?? null);
      else reject(new Error(`the refresh process exited with ${code}: ${stderr}`));
    });
  });
  return { result, messages: () => parsed().flatMap((line) => (line.msg === undefined ? [] : [line.msg])) };
}
