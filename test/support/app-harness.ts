import { mkdtemp, chmod, rm, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { startApp, type RunningApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { findJob } from "../../src/store/job-queries.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { HANG_MS } from "./patience.ts";
import { testAppEnv, TestOctokit } from "./probot.ts";

export const API_TOKEN = "test-api-token-0123456789";

export interface AppHarness {
  app: RunningApp;
  url: string;
  database: TestDatabase;
  dataDir: string;
  /** Poll the job row until `done` holds or the deadline passes. */
  waitForJob(done: (job: Job) => boolean, timeoutMs?: number): Promise<Job>;
  sandboxDirs(): Promise<string[]>;
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
    async stop() {
      await app.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
