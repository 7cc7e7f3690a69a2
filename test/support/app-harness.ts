import { existsSync } from "node:fs";
import { mkdtemp, chmod, rm, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { startApp, type RunningApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { findJob } from "../../src/store/job-queries.ts";
import { OWNER_MARKER, SPARE_NAME } from "../../src/sandbox/local-sandbox.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { HANG_MS } from "./patience.ts";
import { testAppEnv, TestOctokit } from "./probot.ts";
import { waitUntil } from "./wait-until.ts";

export const API_TOKEN = "test-api-token-0123456789";

export interface AppHarness {
  app: RunningApp;
  url: string;
  database: TestDatabase;
  dataDir: string;
  /** Poll the job row until `done` holds or the deadline passes. */
  waitForJob(done: (job: Job) => boolean, timeoutMs?: number): Promise<Job>;
  sandboxDirs(): Promise<string[]>;
  /** Spare sandboxes (warm agents) no job has taken yet. */
  untakenSpares(): Promise<string[]>;
  /**
   * Wait until a warm agent is on hand (AGENT_WARM_AGENTS set): its sandbox made, its opencode
   * starting. `checkout`: one holding a checkout of the repository (after a job on it).
   */
  waitForWarmAgent(kind?: "any" | "checkout"): Promise<string>;
  stop(): Promise<void>;
}

/** The whole app (web + worker) in this process, on its own database and data dir. */
export async function startAppHarness(env: Record<string, string>): Promise<AppHarness> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ra-data-"));
  await chmod(dataDir, 0o755);
  const config = loadConfig(
    testAppEnv({ DATABASE_URL: database.url, DATA_DIR: dataDir, API_TOKEN, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent", WORKER_CONCURRENCY: "2", ...env }),
  );
  const log = pino({ level: config.env.LOG_LEVEL });
  const app = await startApp({ config, log, Octokit: TestOctokit, retryDelaySeconds: 1 });
  let activeJobId: string | null = null;
  const untakenSpares = async () => {
    const names = (await readdir(path.join(dataDir, "sandboxes")).catch(() => [] as string[])).filter((name) => SPARE_NAME.test(name));
    return names.filter((name) => !existsSync(path.join(dataDir, "sandboxes", name, OWNER_MARKER)));
  };
  return {
    app,
    url: app.url!,
    database,
    dataDir,
    async waitForJob(done, timeoutMs = HANG_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const result = await database.pool.query<{ id: string }>("select id from jobs order by created_at desc limit 1");
        activeJobId = result.rows[0]?.id ?? activeJobId;
        const job = activeJobId ? await findJob(database.db, activeJobId) : null;
        if (job && done(job)) return job;
        if (Date.now() > deadline) throw new Error(`job did not reach the expected state in ${timeoutMs} ms; last seen: ${job?.status}/${job?.phase}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async sandboxDirs() {
      return readdir(path.join(dataDir, "sandboxes")).catch(() => []);
    },
    untakenSpares,
    async waitForWarmAgent(kind = "any") {
      // Offered as its opencode starts (warm-agents.ts), whose first write is the model catalog (the scripted models are all described).
      const isReady = (name: string) => {
        const sandbox = path.join(dataDir, "sandboxes", name);
        if (!existsSync(path.join(sandbox, "home", "model-catalog.json"))) return false;
        // A checkout's last step puts the spare's branch there (open-workspace.ts); an empty spare's workdir has no commit.
        return kind === "any" || existsSync(path.join(sandbox, "workspace", ".git", "refs", "heads", "running-agent", "spare"));
      };
      const ready = async () => (await untakenSpares()).find(isReady);
      return waitUntil(ready, { what: "a warm agent to be on hand" });
    },
    async stop() {
      await app.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
