/**
 * Is the test suite green on a busy machine? Runs it three times in a row while a second
 * copy of it runs beside, over and over, on the same cores and the same Postgres server:
 * the load a developer's machine sees when two checkouts test at once. Prints each run's
 * result and time, the neighbour's, and exits non-zero if any of the three was not green.
 *
 *   npm run bench:suite-under-load      (BENCH_RUNS=3, BENCH_GROUP=all|fast|e2e|slow, default all)
 *
 * The measured runs use DATABASE_URL's server when it is set (each test file makes its own
 * database), else an embedded Postgres. The neighbour starts its own embedded Postgres, as a
 * second checkout without DATABASE_URL does: two suites' app processes (10 + 4 connections
 * each) on one server at the default max_connections (100) run out of connections, which
 * is the server's limit, not the suite's (BENCH_SHARED_DATABASE=1 shares it anyway; the
 * README says how to size DATABASE_POOL_SIZE for it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadAverage } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const GROUP = process.env.BENCH_GROUP ?? "all";
const SHARED_DATABASE = process.env.BENCH_SHARED_DATABASE === "1";
const here = path.resolve(import.meta.dirname, "..");

interface SuiteRun {
  code: number | null;
  ms: number;
  /** The summary reporter's closing line. */
  tests: string;
  failures: string[];
  /** Its last 200 kB of output. */
  output: string;
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  console.log(`node ${process.version}, ${os.availableParallelism()} cpus, load average ${loadAverage()}; group ${GROUP}, ${RUNS} runs beside a neighbour (${SHARED_DATABASE ? "on the same Postgres server" : "on its own embedded Postgres"})`);
  const neighbour = startNeighbour();
  const runs: SuiteRun[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const result = await runSuite().promise;
      runs.push(result);
      console.log(`run ${run}/${RUNS}: ${result.code === 0 ? "green" : `RED (exit ${result.code})`} in ${minutes(result.ms)}: ${result.tests}; load average ${loadAverage()}`);
      for (const failure of result.failures) console.log(`    ${failure}`);
      if (result.code !== 0) console.log(`    output: ${saveOutput(`run-${run}`, result)}`);
    }
  } finally {
    const rounds = await neighbour.stop();
    console.log(`neighbour: ${rounds.length} runs beside (${rounds.map((round) => `${round.code === 0 ? "green" : "red"} ${minutes(round.ms)}`).join(", ")}; the last one stopped early)`);
    // The neighbour's failures say as much about the suite under load as the measured runs'.
    for (const [index, round] of rounds.slice(0, -1).entries()) {
      if (round.code === 0) continue;
      console.log(`  neighbour run ${index + 1}:`);
      for (const failure of round.failures) console.log(`    ${failure}`);
      console.log(`    output: ${saveOutput(`neighbour-${index + 1}`, round)}`);
    }
  }
  const red = runs.filter((run) => run.code !== 0).length;
  console.log(red === 0 ? `all ${RUNS} runs green under load` : `${red} of ${RUNS} runs red under load`);
  process.exitCode = red === 0 ? 0 : 1;
}

/** The suite over and over until stopped; its results, the interrupted last one included. */
function startNeighbour(): { stop(): Promise<SuiteRun[]> } {
  const rounds: SuiteRun[] = [];
  let current: { child: ChildProcess; promise: Promise<SuiteRun> } | null = null;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      current = runSuite(SHARED_DATABASE ? {} : { DATABASE_URL: undefined });
      rounds.push(await current.promise);
    }
  })();
  return {
    async stop() {
      stopped = true;
      // The whole group: vitest's workers and whatever their tests started.
      if (current?.child.pid) process.kill(-current.child.pid, "SIGKILL");
      await loop;
      return rounds;
    },
  };
}

function runSuite(env: Record<string, string | undefined> = {}): { child: ChildProcess; promise: Promise<SuiteRun> } {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(here, "node_modules/vitest/vitest.mjs"), "run"], {
    cwd: here,
    env: withoutUndefined({ ...process.env, TEST_GROUP: GROUP, NO_COLOR: "1", FORCE_COLOR: "0", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output = (output + chunk).slice(-200_000)));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output = (output + chunk).slice(-200_000)));
  const promise = new Promise<SuiteRun>((resolve) => {
    child.once("exit", (code) => {
      resolve({
        code,
        ms: performance.now() - started,
        tests: /^Tests: .*$/m.exec(output)?.[0] ?? "no summary line",
        failures: failuresIn(output),
        output,
      });
    });
  });
  return { child, promise };
}

/** Each failed test once, with the first line of its error: enough to tell a timing flake from a bug. */
function failuresIn(output: string): string[] {
  const lines = output.split("\n");
  const failures: string[] = [];
  for (const [index, line] of lines.entries()) {
    if (!/^\s*FAIL\s/.test(line) || failures.some((seen) => seen.startsWith(line.trim()))) continue;
    const error = lines.slice(index + 1, index + 12).find((next) => /Error|expected|timed out/i.test(next));
    failures.push(error ? `${line.trim()}\n        ${error.trim()}` : line.trim());
  }
  return failures.slice(0, 20);
}

/** A red run's whole output, kept where the closing line names it. */
function saveOutput(name: string, run: SuiteRun): string {
  const file = path.join(os.tmpdir(), `suite-under-load-${process.pid}-${name}.log`);
  writeFileSync(file, run.output);
  return file;
}

function withoutUndefined(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) as NodeJS.ProcessEnv;
}

function minutes(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

await main();
