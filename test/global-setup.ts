import { mkdtemp, rm, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import pino from "pino";
import { startEmbeddedPostgres } from "../src/store/embedded-postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A server URL whose user may create databases; each test file makes its own. */
    databaseUrl: string;
  }
}

/**
 * Postgres for the whole run: DATABASE_URL when set (CI points it at the machine's
 * server), otherwise an embedded one started here and stopped at the end.
 */
export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide("databaseUrl", process.env.DATABASE_URL);
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "ra-test-pg-"));
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres(dir, pino({ level: "silent" }));
  project.provide("databaseUrl", embedded.url);
  return async () => {
    await embedded.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
