/**
 * Repository map speed on a large repository: generates a git repository of 50,000 files
 * (mixed languages, nested directories, small realistic sources, plus vendored, generated,
 * binary and lock files), then times the pure core (`buildRepoMap`) and the whole
 * `mapCommit` (git on the worker, from the repository's objects, as a job makes its map),
 * and prints what the map holds.
 *
 *   npm run bench:repo-map             (BENCH_FILES=50000 BENCH_RUNS=7 BENCH_MAX_TOKENS=8000)
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildRepoMap, filesToRead, mapCommit, type RepoFile } from "../src/context/repo-map.ts";
import { listCommitFiles, readBlobs } from "../src/context/repo-map-git.ts";
import { loadAverage, ms, summarize } from "./support.ts";

const FILES = Number(process.env.BENCH_FILES ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 8000);
const FOCUS = ["Retry failed invoice payments when the billing webhook times out"];

async function main(): Promise<void> {
  const rootDir = await mkdtemp(path.join(os.tmpdir(), "ra-bench-repo-map-"));
  const checkout = path.join(rootDir, "checkout");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args], { cwd: checkout, encoding: "utf8", maxBuffer: 1 << 30 }).trim();
  try {
    console.log(`node ${process.version}, ${os.cpus().length} cpus, load average ${loadAverage()}, ${FILES} files, maxTokens ${MAX_TOKENS}, focus ${JSON.stringify(FOCUS)}`);
    let started = performance.now();
    await mkdir(checkout, { recursive: true });
    const bytes = await generateTree(checkout, FILES);
    console.log(`generate: ${FILES} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${ms(performance.now() - started)}`);
    started = performance.now();
    git("init", "--quiet", "--initial-branch=main");
    git("add", "-A");
    git("commit", "--quiet", "-m", "generated");
    // A mirror's objects are packed; 50,000 loose objects would make every lookup a file open.
    git("repack", "-a", "-d", "-q");
    const gitDir = path.join(checkout, ".git");
    const commit = git("rev-parse", "HEAD");
    console.log(`git init + add + commit + repack: ${ms(performance.now() - started)}`);

    // What mapCommit hands the core: every path, contents for the files worth reading.
    const listed = await listCommitFiles(gitDir, commit);
    const wanted = filesToRead(listed, { maxTokens: MAX_TOKENS, focus: FOCUS });
    const contents = await readBlobs(gitDir, wanted.map((file) => file.objectId));
    const input: RepoFile[] = listed.map(({ path: p, size, objectId }) => ({ path: p, size, content: contents.get(objectId) }));
    const allContents = await readBlobs(gitDir, listed.map((file) => file.objectId));
    const everything: RepoFile[] = listed.map(({ path: p, size, objectId }) => ({ path: p, size, content: allContents.get(objectId) }));
    console.log(`read for the core: ${wanted.length} of ${listed.length} files, ${(sum(wanted.map((f) => f.size)) / 1024).toFixed(0)} KiB`);

    const core = timeRuns(RUNS, () => buildRepoMap(input, { maxTokens: MAX_TOKENS, focus: FOCUS }));
    console.log(summarize(`buildRepoMap (${input.length} paths, ${contents.size} contents)`, core.samples));
    const coreAll = timeRuns(RUNS, () => buildRepoMap(everything, { maxTokens: MAX_TOKENS, focus: FOCUS }));
    console.log(summarize(`buildRepoMap (${everything.length} paths, every content)`, coreAll.samples));
    const noFocus = timeRuns(RUNS, () => buildRepoMap(input, { maxTokens: MAX_TOKENS }));
    console.log(summarize(`buildRepoMap (no focus)`, noFocus.samples));

    const endToEnd: number[] = [];
    const listing: number[] = [];
    const reading: number[] = [];
    let map = core.result;
    for (let run = 0; run < RUNS; run += 1) {
      const runStarted = performance.now();
      map = await mapCommit(gitDir, commit, { maxTokens: MAX_TOKENS, focus: FOCUS });
      endToEnd.push(performance.now() - runStarted);
      const listStarted = performance.now();
      await listCommitFiles(gitDir, commit);
      listing.push(performance.now() - listStarted);
      const readStarted = performance.now();
      await readBlobs(gitDir, wanted.map((file) => file.objectId));
      reading.push(performance.now() - readStarted);
    }
    console.log(summarize("mapCommit end to end", endToEnd));
    console.log(summarize(`  of which listing (ls-tree, ${listed.length} paths)`, listing));
    console.log(summarize(`  of which reading (cat-file, ${wanted.length} files)`, reading));

    for (const maxTokens of [2000, MAX_TOKENS, 32_000]) {
      const runStarted = performance.now();
      const sized = await mapCommit(gitDir, commit, { maxTokens, focus: FOCUS });
      const took = performance.now() - runStarted;
      const read = filesToRead(listed, { maxTokens, focus: FOCUS }).length;
      console.log(
        `mapCommit at maxTokens ${maxTokens}: ${ms(took)}, ${sized.tokens} tokens (${((100 * sized.tokens) / maxTokens).toFixed(1)}% of budget), ` +
          `${sized.filesListed} of ${sized.filesTotal} files listed, ${read} read, ${sized.text.length} chars`,
      );
    }
    console.log(`ratio core p50 / end-to-end p50: ${(median(core.samples) / median(endToEnd)).toFixed(2)}; load average now ${loadAverage()}`);
    console.log(`first lines of the map at maxTokens ${MAX_TOKENS}:\n${map.text.split("\n").slice(0, 30).join("\n")}\n…\n${map.text.trimEnd().split("\n").slice(-3).join("\n")}`);
  } finally {
    await rm(rootDir, { recursive: true, force: true });
  }
}

function timeRuns<T>(runs: number, run: () => T): { samples: number[]; result: T } {
  let result = run(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    result = run();
    samples.push(performance.now() - started);
  }
  return { samples, result };
}

// ---- the generated repository ----

const WORDS = "user account session token order invoice payment billing cache queue worker router handler config parser client server store report metric webhook retry schedule email search index export import audit profile".split(" ");
const KINDS: { weight: number; root: string; make: (name: string, rand: () => number) => { file: string; text: string } }[] = [
  { weight: 30, root: "packages", make: (n, r) => ({ file: r() < 0.15 ? `${n}.test.ts` : `${n}.ts`, text: tsSource(n, r) }) },
  { weight: 12, root: "python", make: (n, r) => ({ file: r() < 0.15 ? `test_${n}.py` : `${n}.py`, text: pySource(n, r) }) },
  { weight: 10, root: "services", make: (n, r) => ({ file: r() < 0.15 ? `${n}_test.go` : `${n}.go`, text: goSource(n, r) }) },
  { weight: 6, root: "crates", make: (n, r) => ({ file: `${n}.rs`, text: rustSource(n, r) }) },
  { weight: 6, root: "java/src/main/java/com/acme", make: (n, r) => ({ file: `${pascal(n)}.java`, text: javaSource(n, r) }) },
  { weight: 4, root: "app", make: (n, r) => ({ file: `${n}.rb`, text: rubySource(n, r) }) },
  { weight: 4, root: "native", make: (n, r) => ({ file: r() < 0.3 ? `${n}.h` : `${n}.c`, text: cSource(n, r) }) },
  { weight: 4, root: "docs", make: (n) => ({ file: `${n}.md`, text: `# ${pascal(n)}\n\nHow ${n} works.\n`.repeat(8) }) },
  { weight: 10, root: "node_modules", make: (n, r) => ({ file: `${n}.js`, text: tsSource(n, r) }) },
  { weight: 3, root: "vendor", make: (n, r) => ({ file: `${n}.go`, text: goSource(n, r) }) },
  { weight: 3, root: "third_party", make: (n, r) => ({ file: `${n}.c`, text: cSource(n, r) }) },
  { weight: 3, root: "generated/proto", make: (n, r) => ({ file: `${n}.pb.go`, text: goSource(n, r) }) },
  { weight: 2, root: "assets", make: (n) => ({ file: `${n}.png`, text: "\u0089PNG\r\n\u001a\n\u0000\u0000" }) },
  { weight: 1, root: "dist", make: (n, r) => ({ file: `${n}.min.js`, text: tsSource(n, r).replace(/\n/g, ";") }) },
];

async function generateTree(root: string, count: number): Promise<number> {
  const rand = mulberry32(42);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const totalWeight = sum(KINDS.map((kind) => kind.weight));
  const files = new Map<string, string>([
    ["package.json", `{ "name": "acme", "private": true, "workspaces": ["packages/*"] }\n`],
    ["README.md", "# Acme\n\nA monorepo of services for billing, search and accounts.\n"],
    ["go.mod", "module example.com/acme\n\ngo 1.22\n"],
    ["Makefile", "all:\n\tgo build ./...\n"],
    ["yarn.lock", "# yarn lockfile v1\n"],
    ["services/api/cmd/api/main.go", goSource("main", rand)],
    ["packages/core/src/index.ts", tsSource("index", rand)],
  ]);
  // About twelve files per directory, up to six levels deep, as in real repositories.
  const pools = KINDS.map((kind) => {
    const pool = [kind.root];
    const size = Math.max(1, Math.ceil((count * kind.weight) / totalWeight / 12));
    while (pool.length < size) {
      const parent = pick(pool);
      if (parent.split("/").length - kind.root.split("/").length < 6) pool.push(`${parent}/${pick(WORDS)}${rand() < 0.5 ? "" : Math.floor(rand() * 10)}`);
    }
    return pool;
  });
  while (files.size < count) {
    let roll = rand() * totalWeight;
    const index = Math.max(0, KINDS.findIndex((candidate) => (roll -= candidate.weight) < 0));
    const made = KINDS[index]!.make(`${pick(WORDS)}_${pick(WORDS)}`, rand);
    files.set(`${pick(pools[index]!)}/${made.file}`, made.text);
  }
  const entries = [...files];
  await Promise.all([...new Set(entries.map(([file]) => path.dirname(path.join(root, file))))].map((dir) => mkdir(dir, { recursive: true })));
  for (let i = 0; i < entries.length; i += 256) {
    await Promise.all(entries.slice(i, i + 256).map(([file, text]) => writeFile(path.join(root, file), text)));
  }
  return sum(entries.map(([, text]) => Buffer.byteLength(text)));
}

function body(rand: () => number, indent: string): string {
  return Array.from({ length: 2 + Math.floor(rand() * 6) }, (_, i) => `${indent}const step${i} = compute(input, ${i});\n`).join("");
}
function tsSource(name: string, rand: () => number): string {
  const c = camel(name);
  return `import { compute } from "./util.ts";\n\nexport interface ${pascal(name)}Options {\n  retries: number;\n}\n\nexport async function ${c}(input: string): Promise<void> {\n${body(rand, "  ")}}\n\nexport class ${pascal(name)}Service {\n  run(): void {\n${body(rand, "    ")}  }\n}\n\nfunction helper(): number {\n  return 1;\n}\n`;
}
function pySource(name: string, rand: () => number): string {
  return `import os\n\n\nclass ${pascal(name)}:\n    def run(self):\n${body(rand, "        ").replace(/const /g, "")}\n\ndef ${name}(value):\n    return value\n\n\ndef _private():\n    pass\n`;
}
function goSource(name: string, rand: () => number): string {
  return `package ${name.split("_")[0]}\n\ntype ${pascal(name)} struct {\n\tID string\n}\n\nfunc New${pascal(name)}() *${pascal(name)} {\n${body(rand, "\t")}\treturn nil\n}\n\nfunc (s *${pascal(name)}) Run() error {\n\treturn nil\n}\n\nfunc helper() {}\n`;
}
function rustSource(name: string, rand: () => number): string {
  return `use std::fmt;\n\npub struct ${pascal(name)} {\n    id: u64,\n}\n\nimpl ${pascal(name)} {\n    pub fn new() -> Self {\n${body(rand, "        ").replace(/const /g, "let ")}        Self { id: 0 }\n    }\n}\n\npub fn ${name}() {}\n`;
}
function javaSource(name: string, rand: () => number): string {
  return `package com.acme;\n\npublic class ${pascal(name)} {\n    public void run(String input) {\n${body(rand, "        ").replace(/const /g, "int ")}    }\n\n    public static ${pascal(name)} create() {\n        return new ${pascal(name)}();\n    }\n}\n`;
}
function rubySource(name: string, rand: () => number): string {
  return `module Acme\n  class ${pascal(name)}\n    def call(input)\n${body(rand, "      ").replace(/const /g, "")}    end\n  end\nend\n`;
}
function cSource(name: string, rand: () => number): string {
  return `#include <stdio.h>\n\nstruct ${name} {\n  int id;\n};\n\nint ${name}_run(struct ${name} *self, int flags) {\n${body(rand, "  ").replace(/const /g, "int ")}  return 0;\n}\n\nstatic void ${name}_helper(void) {\n}\n`;
}

function camel(name: string): string {
  return name.replace(/_(\w)/g, (_, letter: string) => letter.toUpperCase());
}
function pascal(name: string): string {
  const c = camel(name);
  return c.charAt(0).toUpperCase() + c.slice(1);
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
function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

await main();
