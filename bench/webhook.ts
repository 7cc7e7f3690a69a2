/**
 * Webhook latency: p50/p99 of the app's answer to 200 signed `/agent` deliveries (each
 * one authorizes, writes the delivery + job + queue message in one transaction, and
 * answers), and the time from a delivery to its first visible response on GitHub (the 👀
 * reaction), with Probot's production Octokit (retries and write throttling on).
 * GitHub is nock, in this process; Postgres is real.
 *
 *   npm run bench:webhook              (DATABASE_URL, else an embedded Postgres)
 */
import nock from "nock";
import pino from "pino";
import { ProbotOctokit } from "probot";
import { startApp } from "../src/app.ts";
import { loadConfig } from "../src/config/load-config.ts";
import { nockInstallationToken, nockRole, GITHUB_API } from "../test/support/github-api.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../test/support/github-fixtures.ts";
import { testAppEnv, TestOctokit, WEBHOOK_SECRET } from "../test/support/probot.ts";
import { createScratchDatabase } from "../test/support/scratch-database.ts";
import { benchDatabaseServer, summarize } from "./support.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const VISIBLE_SAMPLES = Number(process.env.BENCH_VISIBLE_SAMPLES ?? 20);

async function main(): Promise<void> {
  const server = await benchDatabaseServer();
  const database = await createScratchDatabase(server.url, "ra_bench");
  const repo = testRepo();
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith("127.0.0.1"));
  nockInstallationToken().persist();
  nockRole(repo, "octocat", "write").persist();
  const reactedAt = new Map<number, number>();
  const path = `/repos/${repo.owner}/${repo.name}`;
  nock(GITHUB_API)
    .persist()
    .post(new RegExp(`${path}/issues/comments/\\d+/reactions`))
    .reply(201, (request: Request) => {
      reactedAt.set(Number(/comments\/(\d+)/.exec(request.url)![1]), performance.now());
      return { id: 1 };
    })
    .post(`${path}/issues/7/comments`)
    .reply(201, () => ({ id: Math.floor(Math.random() * 1e9) }))
    .get(`${path}/git/ref/heads%2Fmain`)
    .reply(200, { object: { sha: "a".repeat(40) } })
    .post(`${path}/check-runs`)
    .reply(201, () => ({ id: Math.floor(Math.random() * 1e9) }));

  const startWeb = (Octokit: typeof ProbotOctokit) =>
    startApp({
      config: loadConfig(testAppEnv({ DATABASE_URL: database.url, ROLE: "web" })),
      log: pino({ level: "silent" }),
      Octokit,
    });
  try {
    // 1. Answer latency. Write throttling off here: with it, 200 jobs' announcements would
    //    trickle out at one write a second for ten minutes, which is not what is measured.
    const fast = await startWeb(TestOctokit);
    for (let i = 0; i < 5; i++) await deliver(fast.url!, 1_000_000 + i);
    const answers: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const response = await deliver(fast.url!, 2_000_000 + i);
      answers.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`delivery ${i} answered ${response.status}`);
    }
    await waitForQuiet(fast.database.pool, REQUESTS + 5);
    await fast.stop();

    // 2. First visible response, with the production Octokit (retries, and writes paced a
    //    second apart as GitHub asks). Measured twice: a job arriving at a quiet app, and a
    //    job arriving right after another job's writes, which it then waits behind.
    const production = await startWeb(ProbotOctokit);
    let announced = REQUESTS + 5;
    const sample = async (commentId: number) => {
      const started = performance.now();
      await deliver(production.url!, commentId);
      const elapsed = (await waitFor(() => reactedAt.get(commentId))) - started;
      await waitForQuiet(production.database.pool, ++announced);
      return elapsed;
    };
    const quiet: number[] = [];
    const backToBack: number[] = [];
    for (let i = 0; i < VISIBLE_SAMPLES; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      quiet.push(await sample(3_000_000 + i));
      backToBack.push(await sample(4_000_000 + i));
    }
    await production.stop();
    console.log(summarize(`webhook answer (${REQUESTS} signed deliveries, one at a time)`, answers));
    console.log(summarize(`webhook → 👀 reaction, quiet app (${VISIBLE_SAMPLES} jobs, production Octokit)`, quiet));
    console.log(summarize(`webhook → 👀 reaction, right after another job's writes (${VISIBLE_SAMPLES} jobs)`, backToBack));
  } finally {
    await database.drop();
    await server.stop();
  }
}

function deliver(url: string, commentId: number): Promise<Response> {
  return postWebhook(url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add a greet() function", commentId }) });
}

async function waitFor<T>(read: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Wait until every job has its check run, i.e. all announcements are done. */
async function waitForQuiet(pool: import("pg").Pool, expected: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from jobs where check_run_id is not null");
    if (rows[0]!.n >= expected) return;
    if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of ${expected} jobs were announced`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

await main();
