/**
 * A pipeline run as production runs it: `node src/main.ts` as one web process and two
 * workers on one Postgres, the fake GitHub over HTTP, the real opencode binary against the
 * scripted model. The pipeline is `survey → (code ∥ docs)`. Per run: the wall time from
 * the `/agent run` delivery to the run's end, the critical path of its steps' own job
 * times (survey + the longer of code and docs), and what the orchestration adds on top:
 * queueing, recording a step's end, starting the next steps, pushing in turn. Also the gap
 * from the survey's end to each next step's start, and how far apart code and docs
 * started (0 would be perfectly parallel).
 *
 *   npm run bench:pipeline              (BENCH_RUNS, default 3; DATABASE_URL, else an embedded Postgres;
 *                                       AGENT_WARM_AGENTS=0 for workers without warm agents, as before them)
 */
import { eq } from "drizzle-orm";
import { openDatabase } from "../src/store/database.ts";
import { jobs, type Job } from "../src/store/jobs.sql.ts";
import { pipelineRuns } from "../src/store/pipeline-runs.sql.ts";
import { startFakeGitHub } from "../test/fakes/fake-github.ts";
import { startModelServer } from "../test/fakes/model-server.ts";
import { startAppProcess, type AppProcess } from "../test/support/app-process.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT } from "../test/support/git-remote.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../test/support/github-fixtures.ts";
import { SHIP_PIPELINE } from "../test/support/pipeline-scripts.ts";
import { APP_ID, WEBHOOK_SECRET } from "../test/support/probot.ts";
import { scriptedModelEnv } from "../test/support/scripted-model.ts";
import { waitUntil } from "../test/support/wait-until.ts";
import { createScratchDatabase } from "../test/support/scratch-database.ts";
import { benchDatabaseServer, loadAverage, summarize } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface RunFigures {
  wallMs: number;
  criticalPathMs: number;
  overheadMs: number;
  nextStepGapMs: number;
  parallelSkewMs: number;
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  const cleanups: Array<() => Promise<unknown>> = [];
  const apps: AppProcess[] = [];
  try {
    const server = await benchDatabaseServer();
    cleanups.push(() => server.stop());
    const database = await createScratchDatabase(server.url, "ra_bench");
    cleanups.push(() => database.drop());
    const remote = await createGitRemote({ ...GREETING_PROJECT, "greet.js": GREET_SOURCE, ".github/agent.yml": SHIP_PIPELINE.agentYml });
    cleanups.push(() => remote.cleanup());
    const github = await startFakeGitHub({
      appId: APP_ID,
      branchesFrom: (name) => gitOrUndefined(() => remote.git("rev-parse", "--verify", "--quiet", `refs/heads/${name}^{commit}`)),
      filesFrom: (ref, file) => gitOrUndefined(() => remote.git("show", `${ref}:${file}`)),
    });
    cleanups.push(() => github.close());
    const model = await startModelServer(SHIP_PIPELINE.script());
    cleanups.push(() => model.close());
    // The workers' warm agents as in production unless AGENT_WARM_AGENTS says otherwise (0: before them).
    const env = { GHE_HOST: github.host, DATABASE_URL: database.url, ...scriptedModelEnv(model), AGENT_WARM_AGENTS: process.env.AGENT_WARM_AGENTS ?? "1" };
    const web = await startAppProcess({ role: "web", env });
    apps.push(web, await startAppProcess({ role: "worker", env }), await startAppProcess({ role: "worker", env }));
    const db = openDatabase(database.url, { max: 2 });
    cleanups.push(() => db.close());

    const figures: RunFigures[] = [];
    for (let run = 0; run < RUNS; run++) {
      const issueNumber = 100 + run;
      const started = Date.now();
      const payload = issueCommentPayload({ body: "/agent run ship file=farewell.js", repo: testRepo({ cloneUrl: remote.url }), issueNumber, commentId: 9_000 + run });
      await postWebhook(web.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload });
      const ended = await waitUntil(
        async () => {
          const [found] = await db.db.select().from(pipelineRuns).where(eq(pipelineRuns.issueNumber, issueNumber));
          return found?.finishedAt ? found : undefined;
        },
        { timeoutMs: 300_000, what: `pipeline run ${run + 1} to end` },
      );
      if (ended.status !== "completed") throw new Error(`run ${run + 1} ended ${ended.status}: ${JSON.stringify(ended.steps)}`);
      const steps = new Map((await db.db.select().from(jobs).where(eq(jobs.pipelineRunId, ended.id))).map((job) => [job.pipelineStep!, job]));
      figures.push(figuresOf(started, ended.finishedAt!.getTime(), steps));
      process.stderr.write(`run ${run + 1}/${RUNS}: ${Math.round(figures.at(-1)!.wallMs)} ms\n`);
    }
    console.log(`pipeline survey → (code ∥ docs), web + 2 workers, ${RUNS} runs, load average ${loadAverage()}`);
    console.log(summarize("delivery → run ended", figures.map((f) => f.wallMs)));
    console.log(summarize("critical path of the steps' own job times", figures.map((f) => f.criticalPathMs)));
    console.log(summarize("orchestration on top of it", figures.map((f) => f.overheadMs)));
    console.log(summarize("survey ended → next step started", figures.map((f) => f.nextStepGapMs)));
    console.log(summarize("code and docs: difference of their starts", figures.map((f) => f.parallelSkewMs)));
    const ratio = figures.reduce((sum, f) => sum + f.overheadMs / f.wallMs, 0) / figures.length;
    console.log(`orchestration share of the wall time: ${(ratio * 100).toFixed(1)}% (mean)`);
  } finally {
    await Promise.all(apps.map((app) => app.dispose()));
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

function figuresOf(deliveredAt: number, endedAt: number, steps: Map<string, Job>): RunFigures {
  const span = (name: string) => {
    const job = steps.get(name)!;
    return { start: job.startedAt!.getTime(), end: job.finishedAt!.getTime(), duration: job.finishedAt!.getTime() - job.startedAt!.getTime() };
  };
  const survey = span("survey");
  const code = span("code");
  const docs = span("docs");
  const criticalPathMs = survey.duration + Math.max(code.duration, docs.duration);
  const wallMs = endedAt - deliveredAt;
  return {
    wallMs,
    criticalPathMs,
    overheadMs: wallMs - criticalPathMs,
    nextStepGapMs: Math.min(code.start, docs.start) - survey.end,
    parallelSkewMs: Math.abs(code.start - docs.start),
  };
}

function gitOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

await main();
