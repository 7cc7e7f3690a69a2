/**
 * The fault suite at full length, against real processes (`node src/main.ts` as web and
 * workers) on one Postgres, the fake GitHub over HTTP, the scripted model, the real
 * opencode binary and local sandboxes: Postgres stopped 10 s, GitHub answering 502 for two
 * minutes and again from a push on, the model provider refusing connections for a minute
 * and rate-limiting for another, a worker SIGKILLed during its push and during its pull
 * request, a web process SIGKILLed between answering and announcing, DATA_DIR full. Each
 * case is judged by the suite's invariant (test/support/fault-cluster.ts): every delivery
 * answered 2xx made exactly one job, every job ended and shows so in one check run and one
 * comment, no pull request or push twice, nothing left running. The same cases, short, are
 * test/process/faults.slow.test.ts.
 *
 *   npm run bench:faults                       (DATABASE_URL, else an embedded Postgres)
 *   BENCH_FAULTS=postgres-restart,github-502 npm run bench:faults
 */
import os from "node:os";
import { FAULT_CASES, runFaultCase, type CaseResult } from "../test/support/fault-cases.ts";
import { benchDatabaseServer, loadAverage } from "./support.ts";

const wanted = process.env.BENCH_FAULTS?.split(",").map((name) => name.trim());

async function main(): Promise<void> {
  const cases = FAULT_CASES.filter((fault) => !wanted || wanted.includes(fault.name));
  const server = await benchDatabaseServer();
  const began = Date.now();
  console.log(`node ${process.version}, ${os.cpus().length} cpus, load average ${loadAverage()}`);
  console.log("");
  console.log("| case | fault | accepted → jobs | how they ended | pull requests | settled after the fault | invariant |");
  console.log("|---|---|---|---|---|---|---|");
  const details: string[] = [];
  let broken = 0;
  try {
    for (const fault of cases) {
      const unavailable = fault.unavailable?.() ?? null;
      if (unavailable) {
        console.log(`| ${fault.name} | ${fault.fault} | – | skipped: ${unavailable} | – | – | – |`);
        continue;
      }
      const result = await runFaultCase(fault, "full", { databaseServerUrl: server.url }).catch((error: unknown) => error as Error);
      if (result instanceof Error) {
        broken++;
        console.log(`| ${fault.name} | ${fault.fault} | – | the case failed: ${result.message.split("\n")[0]} | – | – | **broken** |`);
        continue;
      }
      if (result.verdict.problems.length > 0) broken++;
      console.log(row(fault.name, fault.fault, result));
      details.push(`- ${fault.name} (${result.seconds.toFixed(0)} s): ${[...result.verdict.notes, ...result.verdict.timeline].join("; ")}`);
      for (const problem of result.verdict.problems) details.push(`  - ${problem}`);
    }
  } finally {
    await server.stop();
  }
  console.log("");
  for (const line of details) console.log(line);
  console.log(`\n${cases.length - broken} of ${cases.length} cases held the invariant. Load average at the end ${loadAverage()}; ${((Date.now() - began) / 60_000).toFixed(1)} min in all.`);
  if (broken > 0) process.exitCode = 1;
}

function row(name: string, fault: string, result: CaseResult): string {
  const { verdict } = result;
  const ended = Object.entries(verdict.statuses)
    .map(([status, count]) => `${count} ${status}`)
    .join(", ");
  const settled = verdict.notes.find((note) => note.startsWith("settled"))?.replace(/^settled (\S+ s) after the fault.*/, "$1") ?? "?";
  return `| ${name} | ${fault} | ${verdict.accepted} → ${verdict.jobs} | ${ended} | ${verdict.pullRequests} | ${settled} | ${verdict.problems.length === 0 ? "held" : `**broken** (${verdict.problems.length})`} |`;
}

await main();
