import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/store/embedded-postgres.ts";
import { PostgresInUseError } from "../../src/store/postmaster.ts";
import { migrateDatabase } from "../../src/store/migrate.ts";
import { openDatabase } from "../../src/store/database.ts";
import { isProcessAlive } from "../sandbox/processes.ts";
import { waitUntil } from "../support/wait-until.ts";

const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
const cleanups: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the embedded Postgres", () => {
  it("does not take over the process's exit code or signals", () => {
    const script = [
      'import { loadEmbeddedPostgres } from "./src/store/embedded-postgres.ts";',
      "await loadEmbeddedPostgres();",
      'process.stdout.write(String(process.listenerCount("beforeExit") + process.listenerCount("SIGTERM")));',
      "process.exitCode = 3;",
    ].join("\n");
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("0");
    expect(result.status).toBe(3);
  });

  it("starts in a fresh data dir, migrates, and starts again on the same data", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ra-embedded-"));
    await chmod(dir, 0o755);
    const log = pino({ level: "silent" });
    try {
      const first = await startEmbeddedPostgres(dir, log);
      // The app's own pool (openDatabase): an idle client the stop terminates late (57P01, seen on a loaded machine) is handled, not thrown.
      const database = openDatabase(first.url);
      await migrateDatabase(database.pool);
      await database.pool.query("insert into webhook_deliveries (delivery_id, event, outcome) values ('kept', 'ping', 'test')");
      await database.close();
      await first.stop();

      const second = await startEmbeddedPostgres(dir, log);
      const client = new pg.Client({ connectionString: second.url });
      await client.connect();
      const { rows } = await client.query("select delivery_id from webhook_deliveries");
      await client.end();
      await second.stop();
      expect(rows).toEqual([{ delivery_id: "kept" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is not reached by a Ctrl-C to the process group of the process that started it", async () => {
    const dir = await dataDir();
    // In a group of its own, as a shell starts a foreground command; on SIGINT it asks Postgres, then stops it.
    const holder = await startHolder(dir, { processGroup: true });

    process.kill(-holder.child.pid!, "SIGINT");

    expect(await holder.exit).toBe(0);
    expect(holder.output()).toContain("after SIGINT: Postgres answered");
    expect(existsSync(path.join(dir, "postgres", "postmaster.pid"))).toBe(false);
  });

  it("stops when the process that started it is killed", async () => {
    const dir = await dataDir();
    const holder = await startHolder(dir);
    const postmaster = postmasterPidOf(dir);

    holder.child.kill("SIGKILL");
    await holder.exit;

    // No restart needed: its watchdog sees the pipe from the dead process close. Postgres
    // removes its pid file moments before its process ends: wait for both.
    await waitUntil(() => !existsSync(path.join(dir, "postgres", "postmaster.pid")) && !isProcessAlive(postmaster), { what: "the orphaned Postgres to shut down" });
  });

  it("stops, at the next start, a Postgres whose process and watchdog were both killed, and keeps its data", async () => {
    const dir = await dataDir();
    const holder = await startHolder(dir);
    await withClient(holder.url, (client) => client.query("create table kept (value text); insert into kept values ('before the crash')"));
    const orphan = postmasterPidOf(dir);
    const watchdog = parentOf(orphan);
    cleanups.push(() => killIfAlive(orphan));
    holder.child.kill("SIGKILL");
    process.kill(watchdog, "SIGKILL");
    await holder.exit;
    expect(isProcessAlive(orphan)).toBe(true);

    const next = await startEmbeddedPostgres(dir, pino({ level: "silent" }));
    cleanups.push(() => next.stop());

    expect(isProcessAlive(orphan)).toBe(false);
    const { rows } = await withClient(next.url, (client) => client.query("select value from kept"));
    expect(rows).toEqual([{ value: "before the crash" }]);
  });

  it("refuses a data directory whose Postgres a live process runs, naming that process, and leaves it running", async () => {
    const dir = await dataDir();
    const holder = await startHolder(dir);

    const second = startEmbeddedPostgres(dir, pino({ level: "silent" }));

    await expect(second).rejects.toBeInstanceOf(PostgresInUseError);
    await expect(second).rejects.toThrow(`process ${holder.child.pid} is using the embedded Postgres in ${path.join(dir, "postgres")}`);
    const { rows } = await withClient(holder.url, (client) => client.query("select 1 as answer"));
    expect(rows).toEqual([{ answer: 1 }]);
  });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ra-embedded-"));
  await chmod(dir, 0o755);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Holder {
  child: ChildProcess;
  url: string;
  output(): string;
  /** The exit code. */
  exit: Promise<number | null>;
}

/** Another process that starts the embedded Postgres in `dir` and keeps it until SIGINT (then asks it once and stops it). */
async function startHolder(dir: string, options: { processGroup?: boolean } = {}): Promise<Holder> {
  const script = [
    'import pg from "pg";',
    'import pino from "pino";',
    'import { startEmbeddedPostgres } from "./src/store/embedded-postgres.ts";',
    `const embedded = await startEmbeddedPostgres(${JSON.stringify(dir)}, pino({ level: "silent" }));`,
    'process.on("SIGINT", async () => {',
    "  const client = new pg.Client({ connectionString: embedded.url });",
    "  await client.connect();",
    '  await client.query("select 1");',
    "  await client.end();",
    '  console.log("after SIGINT: Postgres answered");',
    "  await embedded.stop();",
    "  process.exit(0);",
    "});",
    "console.log(JSON.stringify({ url: embedded.url }));",
  ].join("\n");
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], detached: options.processGroup === true });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exit;
    // Its Postgres stops on its own once it is gone; the data directory goes only after that.
    await waitUntil(() => !existsSync(path.join(dir, "postgres", "postmaster.pid")), { what: "the holder's Postgres to stop" });
  });
  const line = await waitUntil(() => output.split("\n").find((candidate) => candidate.startsWith("{")) ?? (child.exitCode !== null && new Error(output)), { what: "the holder to start Postgres" });
  if (line instanceof Error) throw line;
  return { child, url: (JSON.parse(line) as { url: string }).url, output: () => output, exit };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function postmasterPidOf(dir: string): number {
  return Number(readFileSync(path.join(dir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
