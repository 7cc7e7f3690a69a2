/**
 * Sandbox-ready time: what a job waits for before the agent can start (a local sandbox,
 * the repository cloned at the base commit on the job's branch, the real opencode server
 * answering), on a synthetic repository of 5,000 files and 2,000 commits generated with
 * `git fast-import` into a local bare repository that stands in for GitHub. Four ways:
 *   (a)  a plain clone from the remote each time (no mirror cache);
 *   (b)  the first job with the mirror cache: the mirror is cloned, the workspace cloned from it;
 *   (c)  a second job with the cache: the mirror has the commit, nothing is fetched;
 *   (c+) a second job after one new commit on the remote: the mirror fetches it first.
 * The clone is the product's: a work repository on the worker borrowing the mirror's
 * objects (or fetching from the remote), whose commits reach the sandbox as a bundle.
 * Then the refresh alone, and the git clone strategies a mirror can be used with (objects
 * only). Figures, never a verdict.
 *
 *   npm run bench:sandbox-ready        (BENCH_RUNS=5 BENCH_FILES=5000 BENCH_COMMITS=2000 BENCH_DIR=$TMPDIR)
 *
 * The remote is file://, so what (a) pays for objects here is the server's pack-objects
 * and local I/O, without GitHub's latency and bandwidth: the real gap is wider. Writing the
 * checkout's files is the same for every way and depends on the file system more than on
 * anything else (BENCH_DIR=/dev/shm shows it without the disk).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { buildOpencodeConfig } from "../src/agent/opencode-config.ts";
import { startOpencodeServer } from "../src/agent/opencode-server.ts";
import { cloneRepository } from "../src/sandbox/git-workspace.ts";
import { closeWorkRepository, ensureCommit, openWorkRepository } from "../src/sandbox/work-repository.ts";
import { createLocalSandboxProvider } from "../src/sandbox/local-sandbox.ts";
import { createMirrorCache, type MirrorCache } from "../src/sandbox/mirror-cache.ts";
import type { SandboxProvider } from "../src/sandbox/sandbox.ts";
import { scriptedProvider } from "../test/fakes/model-server.ts";
import { loadAverage, ms, percentile, summarize } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FILES = Number(process.env.BENCH_FILES ?? 5_000);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 2_000);
const TOKEN = "ghs_BenchTokenNotASecret0123456789abcdefghij";
const STEPS = ["create", "mirror", "clone", "opencode", "answer"] as const;
type Step = (typeof STEPS)[number];
type Timing = Record<Step, number>;

// The server never reaches the model here: it only has to start and answer.
const opencodeConfig = buildOpencodeConfig({
  models: { explore: "scripted/m", plan: "scripted/m", build: "scripted/m" },
  provider: scriptedProvider({ baseUrl: "http://127.0.0.1:9/v1" }),
});

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  const root = await mkdtemp(path.join(process.env.BENCH_DIR || os.tmpdir(), "ra-bench-ready-"));
  try {
    const remoteDir = path.join(root, "remote.git");
    let started = performance.now();
    await generateRemote(remoteDir, FILES, COMMITS);
    const packed = (await git(remoteDir, "count-objects", "-vH")).match(/size-pack: (.*)/)?.[1];
    console.log(`node ${process.version}, ${os.availableParallelism()} cpus, load average ${loadAverage()}, under ${root}`);
    console.log(`remote: ${FILES} files, ${COMMITS} commits, ${packed} packed, generated in ${ms(performance.now() - started)}; ${RUNS} runs per way`);
    const url = `file://${remoteDir}`;
    const provider = createLocalSandboxProvider({ rootDir: path.join(root, "sandboxes"), dataDir: root });
    const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? "warn" });

    // 1. The four ways, interleaved so that a change of load on the machine hits them alike.
    const results: Record<string, Timing[]> = { "(a) plain clone": [], "(b) first job, mirror cache": [], "(c) second job, mirror cache": [], "(c+) second job, one new commit": [] };
    for (let run = 1; run <= RUNS; run++) {
      const cache = createMirrorCache({ dir: path.join(root, `mirrors-${run}`), log });
      const head = (await git(remoteDir, "rev-parse", "main")).trim();
      results["(a) plain clone"]!.push(await timeSandboxReady(provider, { root, url, sha: head }));
      results["(b) first job, mirror cache"]!.push(await timeSandboxReady(provider, { root, url, sha: head, cache }));
      results["(c) second job, mirror cache"]!.push(await timeSandboxReady(provider, { root, url, sha: head, cache }));
      const pushed = await commitToRemote(remoteDir, run);
      results["(c+) second job, one new commit"]!.push(await timeSandboxReady(provider, { root, url, sha: pushed, cache }));
      console.error(`run ${run}/${RUNS}: ${Object.entries(results).map(([way, timings]) => `${way.split(" ")[0]} ${ms(total(timings.at(-1)!))}`).join(", ")}`);
    }

    // 2. The report.
    console.log("\nsandbox ready = create + mirror refresh + clone (on the job's branch) + opencode listening + first answer");
    for (const [way, timings] of Object.entries(results)) {
      console.log(summarize(way, timings.map(total)));
      console.log(`    p50 by step: ${STEPS.map((step) => `${step}=${ms(p50(timings.map((timing) => timing[step])))}`).join(" ")}`);
      console.log(`    ${summarize("workspace ready (create..clone)", timings.map(workspaceReady))}`);
    }
    const [plain, first, second, secondNew] = Object.values(results) as [Timing[], Timing[], Timing[], Timing[]];
    const ratio = (a: Timing[], b: Timing[], measure: (timing: Timing) => number) => (p50(a.map(measure)) / p50(b.map(measure))).toFixed(2);
    const cloneAndMirror = (timing: Timing) => timing.mirror + timing.clone;
    console.log("\nratios of p50s to (a):");
    for (const [label, way] of [["(b)", first], ["(c)", second], ["(c+)", secondNew]] as const) {
      console.log(`  ${label}: mirror+clone ${ratio(way, plain, cloneAndMirror)}, workspace ready ${ratio(way, plain, workspaceReady)}, sandbox ready ${ratio(way, plain, total)}`);
    }

    // 3. The refresh alone, on a warm mirror.
    const cache = createMirrorCache({ dir: path.join(root, "mirrors-warm"), log });
    const head = (await git(remoteDir, "rev-parse", "main")).trim();
    await cache.refresh({ repoId: 1, url, token: TOKEN });
    const withSha = await timeEach(RUNS * 2, () => cache.refresh({ repoId: 1, url, token: TOKEN, sha: head }));
    const withoutSha = await timeEach(RUNS * 2, () => cache.refresh({ repoId: 1, url, token: TOKEN }));
    console.log(`\n${summarize("refresh, mirror has the commit (no fetch)", withSha)}`);
    console.log(summarize("refresh, nothing new (a fetch; on GitHub add a round trip)", withoutSha));

    // 4. Clone strategies from the mirror, objects only (-n), then the checkout they all share.
    const mirror = path.join(root, "mirrors-warm", "1.git");
    const strategies: Array<[string, string[]]> = [
      ["from the remote (no mirror)", [url]],
      ["--reference (alternates; still asks the remote)", ["--reference", mirror, url]],
      ["--reference --dissociate (repacks a copy)", ["--reference", mirror, "--dissociate", url]],
      ["local clone of the mirror, hard links (not used: a sandbox could rewrite the mirror's files in place)", [mirror]],
      ["--shared clone of the mirror (alternates)", ["--shared", mirror]],
    ];
    console.log(`\nclone strategies, objects only (git clone -n), ${RUNS} runs each:`);
    const checkouts: number[] = [];
    for (const [label, args] of strategies) {
      const samples: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const work = path.join(root, "strategy");
        await rm(work, { recursive: true, force: true });
        await mkdir(work);
        started = performance.now();
        await git(work, "clone", "--quiet", "--no-checkout", "--no-tags", "--branch", "main", "--single-branch", ...args, ".");
        samples.push(performance.now() - started);
        if (label.includes("hard links")) {
          started = performance.now();
          await git(work, "checkout", "--quiet", "--detach", head);
          checkouts.push(performance.now() - started);
        }
      }
      console.log(`  ${summarize(label, samples)}`);
    }
    console.log(`  ${summarize(`then the checkout of ${FILES} files (any strategy)`, checkouts)}`);
    console.log(`load average now ${loadAverage()}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** One job's way to a ready sandbox, step by step; the sandbox and server are stopped untimed. */
async function timeSandboxReady(provider: SandboxProvider, job: { root: string; url: string; sha: string; cache?: MirrorCache }): Promise<Timing> {
  const timing = {} as Timing;
  let mark = performance.now();
  const lap = (step: Step) => {
    const now = performance.now();
    timing[step] = now - mark;
    mark = now;
  };
  const sandbox = await provider.create({ jobId: "bench-ready", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
  lap("create");
  try {
    const reference = job.cache ? await job.cache.refresh({ repoId: 1, url: job.url, token: TOKEN, sha: job.sha }) : null;
    if (job.cache && reference === null) throw new Error("the mirror refresh failed (BENCH_LOG_LEVEL=info shows why)");
    lap("mirror");
    const repository = await openWorkRepository({ dir: path.join(job.root, "work"), jobId: "bench-ready", objectsOf: reference });
    try {
      await ensureCommit(repository, { url: job.url, token: TOKEN }, { branch: "main", sha: job.sha });
      await cloneRepository(sandbox, repository, { url: job.url, branch: "main", sha: job.sha, workBranch: "agent/1-bench", identity: { email: "bench@example.com" } });
    } finally {
      await closeWorkRepository(repository);
    }
    lap("clone");
    const server = await startOpencodeServer(sandbox, { config: opencodeConfig });
    try {
      lap("opencode");
      await server.client.session.list(undefined, { throwOnError: true });
      lap("answer");
    } finally {
      await server.stop();
    }
    const head = await sandbox.exec(["git", "rev-parse", "HEAD"]);
    if (head.stdout.trim() !== job.sha) throw new Error(`the workspace is at ${head.stdout.trim()}, not ${job.sha}`);
  } finally {
    await sandbox.destroy();
  }
  return timing;
}

async function timeEach(runs: number, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples;
}

// ---- the synthetic repository ----

/**
 * A bare repository of `files` files and `commits` commits: the first commit adds most
 * files, each later one edits three and adds a few, until all are there.
 */
async function generateRemote(dir: string, files: number, commits: number): Promise<void> {
  await git(path.dirname(dir), "init", "--quiet", "--bare", "--initial-branch=main", dir);
  const rand = mulberry32(7);
  const versions = new Array<number>(files).fill(0);
  let present = Math.max(1, Math.floor(files * 0.6));
  const perCommit = Math.ceil((files - present) / Math.max(1, commits - 1));
  await fastImport(dir, function* () {
    yield commitRecord(1, "Initial import", Array.from({ length: present }, (_, file) => [pathOf(file), sourceOf(file, 0, rand)]));
    for (let commit = 2; commit <= commits; commit++) {
      const changed = new Map<string, string>();
      for (let i = 0; i < perCommit && present < files; i++, present++) changed.set(pathOf(present), sourceOf(present, 0, rand));
      for (let i = 0; i < 3; i++) {
        const file = Math.floor(rand() * present);
        changed.set(pathOf(file), sourceOf(file, ++versions[file]!, rand));
      }
      yield commitRecord(commit, `Change ${commit}`, [...changed]);
    }
  });
  await git(dir, "repack", "-a", "-d", "-q");
}

/** One more commit on main, as a push would add. */
async function commitToRemote(dir: string, run: number): Promise<string> {
  const parent = (await git(dir, "rev-parse", "main")).trim();
  const content = `# Changelog\n\nRelease ${run}.\n`;
  await fastImport(dir, function* () {
    yield `commit refs/heads/main\ncommitter Bench <bench@example.com> ${1_800_000_000 + run} +0000\ndata 7\nRelease\nfrom ${parent}\nM 100644 inline CHANGELOG.md\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  });
  return (await git(dir, "rev-parse", "main")).trim();
}

function commitRecord(index: number, message: string, files: Array<[string, string]>): string {
  const changes = files.map(([file, text]) => `M 100644 inline ${file}\ndata ${Buffer.byteLength(text)}\n${text}\n`).join("");
  return `commit refs/heads/main\ncommitter Bench <bench@example.com> ${1_700_000_000 + index * 60} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n${changes}\n`;
}

function fastImport(dir: string, records: () => Generator<string>): Promise<void> {
  const child = spawn("git", ["fast-import", "--quiet"], { cwd: dir, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${stderr}`))));
  });
  return (async () => {
    for (const record of records()) {
      if (!child.stdin.write(record)) await new Promise((resolve) => child.stdin.once("drain", resolve));
    }
    child.stdin.end();
    await done;
  })();
}

const AREAS = "api billing search accounts queue worker router store report webhook".split(" ");
function pathOf(file: number): string {
  const area = AREAS[file % AREAS.length]!;
  return `packages/${area}/src/module${Math.floor(file / 50) % 20}/part${file % 7}/file${file}.ts`;
}

function sourceOf(file: number, version: number, rand: () => number): string {
  const lines = [`// file ${file}, revision ${version}`, `import { compute } from "../../util.ts";`, ""];
  for (let fn = 0; fn < 6 + Math.floor(rand() * 10); fn++) {
    lines.push(`export function step${fn}(input: number): number {`, `  const value = compute(input, ${Math.floor(rand() * 1000)});`, `  return value * ${fn + 1};`, "}", "");
  }
  return lines.join("\n");
}

// ---- small things ----

async function git(cwd: string, ...args: string[]): Promise<string> {
  const child = spawn("git", args, { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) throw new Error(`git ${args.join(" ")} exited ${code}: ${stderr}`);
  return stdout;
}

function total(timing: Timing): number {
  return STEPS.reduce((sum, step) => sum + timing[step], 0);
}
function workspaceReady(timing: Timing): number {
  return timing.create + timing.mirror + timing.clone;
}
function p50(samples: number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50);
}
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

await main();
