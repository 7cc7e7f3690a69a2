/**
 * The basic eval suite (`npm run eval:offline`: real opencode, the scripted model) on this
 * tree and on another commit, alternated round by round so that a change of load on the
 * machine hits both alike: each task's wall time and each phase's, as p50s and ratios.
 * How much a change to the engine costs a job, measured as a user's job runs.
 *
 *   npm run bench:eval-compare -- <git ref>     (BENCH_RUNS=2, BENCH_CONCURRENCY=1)
 *
 * The other commit is checked out as a git worktree under the temp directory, with this
 * tree's node_modules linked in (so its package.json must match). Concurrency 1 by default:
 * two tasks side by side on two cores measure the contention more than the job.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { EvalReport } from "../src/eval/report.schema.ts";
import { loadAverage, ms, percentile } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? "1";
const here = path.resolve(import.meta.dirname, "..");

async function main(): Promise<void> {
  const ref = process.argv[2];
  if (!ref) throw new Error("usage: npm run bench:eval-compare -- <git ref to compare this tree with>");
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  const sha = git(["rev-parse", "--verify", `${ref}^{commit}`]).trim();
  const root = await mkdtemp(path.join(os.tmpdir(), "ra-bench-eval-"));
  const before = path.join(root, "before");
  try {
    git(["worktree", "add", "--detach", "--quiet", before, sha]);
    await symlink(path.join(here, "node_modules"), path.join(before, "node_modules"));
    console.log(`node ${process.version}, ${os.availableParallelism()} cpus, load average ${loadAverage()}; ${RUNS} runs each, concurrency ${CONCURRENCY}`);
    console.log(`before: ${ref} (${sha.slice(0, 12)}); after: this tree`);
    const reports: Record<"before" | "after", EvalReport[]> = { before: [], after: [] };
    for (let run = 1; run <= RUNS; run++) {
      for (const [side, tree] of [["before", before], ["after", here]] as const) {
        const out = path.join(root, `${side}-${run}`);
        await runSuite(tree, out);
        reports[side].push(JSON.parse(await readFile(path.join(out, "report.json"), "utf8")) as EvalReport);
        console.error(`run ${run}/${RUNS} ${side}: ${ms(reports[side].at(-1)!.totals.wallMs)} over the tasks`);
      }
    }
    report(reports.before, reports.after);
    console.log(`load average now ${loadAverage()}`);
  } finally {
    if (existsSync(before)) git(["worktree", "remove", "--force", before]);
    await rm(root, { recursive: true, force: true });
  }
}

function report(before: EvalReport[], after: EvalReport[]): void {
  const tasks = before[0]!.tasks.map((task) => task.id);
  const p50 = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
  const wallOf = (reports: EvalReport[], id: string) => p50(reports.map((r) => r.tasks.find((task) => task.id === id)?.wallMs ?? Number.NaN));
  console.log("\ntask wall time, p50 of the runs: before → after (ratio)");
  const ratios: number[] = [];
  for (const id of tasks) {
    const [b, a] = [wallOf(before, id), wallOf(after, id)];
    ratios.push(a / b);
    const succeeded = (reports: EvalReport[]) => reports.every((r) => r.tasks.find((task) => task.id === id)?.success);
    console.log(`  ${id.padEnd(28)} ${ms(b).padStart(8)} → ${ms(a).padStart(8)}  ×${(a / b).toFixed(2)}${succeeded(before) === succeeded(after) ? "" : "  (success differs!)"}`);
  }
  const total = (reports: EvalReport[]) => p50(reports.map((r) => r.totals.wallMs));
  console.log(`  ${"all tasks (sum)".padEnd(28)} ${ms(total(before)).padStart(8)} → ${ms(total(after)).padStart(8)}  ×${(total(after) / total(before)).toFixed(2)}`);
  console.log(`  per-task ratio: p50 ×${p50(ratios).toFixed(2)}, max ×${Math.max(...ratios).toFixed(2)}`);
  console.log("\ntime per phase, summed over the tasks, p50 of the runs: before → after");
  const phases = [...new Set([...before, ...after].flatMap((r) => Object.keys(r.totals.phaseMs)))];
  for (const phase of phases) {
    const of = (reports: EvalReport[]) => p50(reports.map((r) => r.totals.phaseMs[phase] ?? 0));
    console.log(`  ${phase.padEnd(10)} ${ms(of(before)).padStart(8)} → ${ms(of(after)).padStart(8)}`);
  }
}

function runSuite(tree: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["eval/offline.ts", "--concurrency", CONCURRENCY, "--out", out], { cwd: tree, stdio: ["ignore", "ignore", "inherit"], env: process.env });
    child.once("error", reject);
    // The suite holds one task the scripted agent is meant to fail: exit code 1 is a result, not an error.
    child.once("exit", (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`eval in ${tree} exited with ${code}`))));
  });
}

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: here, encoding: "utf8" });
}

await main();
