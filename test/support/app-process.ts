/**
 * The app as a real process, the way `npm start` runs it (`node src/main.ts`), for tests
 * of what only a process has: start-up from the environment, roles in separate
 * processes, signals and exit codes. GitHub is the fake in test/fakes/fake-github.ts,
 * reached through GHE_HOST (nock cannot reach into a child process).
 *
 * Longer than most files: start-up, readiness, output capture and a clean kill belong
 * together; splitting them would only scatter one lifecycle.
 */
import { spawn } from "node:child_process";
import { chmodSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { findFreePort } from "../../src/free-port.ts";
import { HANG_MS } from "./patience.ts";
import { testPrivateKey } from "./github-fixtures.ts";
import { APP_ID, WEBHOOK_SECRET } from "./probot.ts";

const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
const OUTPUT_LIMIT = 256 * 1024;

export type Role = "web" | "worker" | "all";

export interface AppProcessOptions {
  role?: Role;
  /**
   * Added to (and over) the defaults: GHE_HOST, DATABASE_URL, the scripted model's env…
   * `undefined` unsets a default. It is passed as an empty string, which the app reads as
   * unset, so that a developer's .env (main.ts loads it; real variables win) cannot fill it in.
   */
  env?: Record<string, string | undefined>;
  /** Wait until the process serves (`/ping`) or, for a worker, logs that it started. Default true. */
  waitForReady?: boolean;
  readyTimeoutMs?: number;
  /**
   * Start it as the leader of its own process group, as a shell starts a foreground command:
   * `process.kill(-pid, signal)` then reaches it and every child left in its group, as Ctrl-C does.
   */
  processGroup?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AppProcess {
  /** `http://127.0.0.1:PORT`; null for ROLE=worker, which serves nothing. */
  url: string | null;
  pid: number;
  /** DATA_DIR: sandboxes (and an embedded Postgres without DATABASE_URL) live here. */
  dataDir: string;
  /** stdout and stderr, interleaved as they came (the last 256 KiB). */
  output(): string;
  /** Resolve with the output once `pattern` appears in it; reject if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /** Wait for the process to exit on its own; past the deadline, kill it and throw. */
  waitForExit(timeoutMs?: number): Promise<Exit>;
  /** Send `signal`, wait for the exit (SIGKILL after `timeoutMs`, then throw) and return the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** SIGKILL the process and everything it started. */
  kill(): Promise<void>;
  /** For afterEach: kill whatever is still running and remove DATA_DIR. */
  dispose(): Promise<void>;
}

const running = new Set<number>();
// A test runner that dies mid-test must not leave apps behind.
process.once("exit", () => {
  for (const pid of running) killTree(pid);
});

export async function startAppProcess(options: AppProcessOptions = {}): Promise<AppProcess> {
  const role = options.role ?? "all";
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ra-process-"));
  // Embedded Postgres runs as the `postgres` user, which must traverse this directory.
  chmodSync(dataDir, 0o755);
  // Picked here, so that the test knows where the process will listen before it says so.
  const port = await findFreePort("127.0.0.1");
  const env = buildEnv({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    APP_ID: String(APP_ID),
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    GHE_PROTOCOL: "http",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    ROLE: role,
    LOG_LEVEL: "info",
    ...options.env,
  });
  const child = spawn(process.execPath, [path.join("src", "main.ts")], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: options.processGroup === true });
  if (child.pid === undefined) throw new Error("could not spawn the app process");
  const pid = child.pid;
  running.add(pid);

  let output = "";
  const listeners = new Set<() => void>();
  const append = (chunk: string) => {
    output += chunk;
    if (output.length > OUTPUT_LIMIT) output = `[… earlier output dropped]\n${output.slice(-OUTPUT_LIMIT)}`;
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding("utf8").on("data", append);
  child.stderr.setEncoding("utf8").on("data", append);
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(pid);
      exit = { code, signal };
      resolve(exit);
      for (const listener of listeners) listener();
    });
  });

  function waitForOutput(pattern: RegExp, timeoutMs = HANG_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(output)) finish(() => resolve(output));
        else if (exit) finish(() => reject(new Error(`the app exited (${describeExit(exit!)}) before printing ${pattern}; output:\n${output}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`the app did not print ${pattern} within ${timeoutMs} ms; output:\n${output}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  }

  const url = `http://127.0.0.1:${port}`;
  const app: AppProcess = {
    url: role === "worker" ? null : url,
    pid,
    dataDir,
    output: () => output,
    waitForOutput,
    exited,
    async waitForExit(timeoutMs = HANG_MS) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
      const result = await Promise.race([exited, deadline]);
      clearTimeout(timer);
      if (result !== "timeout") return result;
      await app.kill();
      throw new Error(`the app did not exit within ${timeoutMs} ms; killed it. Output:\n${output}`);
    },
    async stop(signal = "SIGTERM", timeoutMs = HANG_MS) {
      if (!exit) child.kill(signal);
      return (await app.waitForExit(timeoutMs)).code;
    },
    async kill() {
      if (!exit) killTree(pid);
      await exited;
    },
    async dispose() {
      await app.kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  if (options.waitForReady === false) return app;
  try {
    const timeoutMs = options.readyTimeoutMs ?? HANG_MS;
    if (role === "worker") await waitForOutput(/"msg":"Running Agent started"/, timeoutMs);
    else await waitForPing(url, () => exit, timeoutMs, () => output);
  } catch (error) {
    await app.dispose();
    throw error;
  }
  return app;
}

function buildEnv(entries: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(entries).map(([key, value]) => [key, value ?? ""]));
}

/** Poll `GET /ping` until it answers PONG; fail early if the process exits. */
async function waitForPing(url: string, exitOf: () => Exit | null, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = exitOf();
    if (exit) throw new Error(`the app exited (${describeExit(exit)}) before answering /ping; output:\n${output()}`);
    const pong = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) })
      .then((response) => response.text())
      .catch(() => "");
    if (pong === "PONG") return;
    if (Date.now() > deadline) throw new Error(`the app did not answer /ping within ${timeoutMs} ms; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/**
 * SIGKILL a process and its descendants. They are found before the kill: the app starts
 * opencode and test commands in process groups of their own, and once the app is gone
 * they would be reparented and no longer traceable to it.
 */
function killTree(pid: number): void {
  for (const target of [pid, ...descendantsOf(pid)]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return []; // No /proc (not Linux): only the process itself is killed.
  }
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Fields restart after the command name's closing parenthesis: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
