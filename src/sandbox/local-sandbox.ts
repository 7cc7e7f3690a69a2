/**
 * The local sandbox: a directory on this host (workspace, HOME, tmp) and child processes,
 * each run under bubblewrap (`bubblewrap.ts`): its own PID, mount, IPC and UTS namespaces,
 * the host read-only, the data directory and the host user's HOME hidden, nothing left
 * running when a command or the sandbox ends. The environment is an allow-list. It shares
 * the host's network, which is why production refuses it unless enabled (decided in
 * `sandbox-policy.ts`). Without bubblewrap it refuses to start, unless the operator opted
 * out for development (`unconfined`).
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { resolveOpencodeBinary } from "./opencode-binary.ts";
import { JobError } from "../job-error.ts";
import { readContained, writeContained } from "./contained-file.ts";
import { bubblewrapArgv, bubblewrapProblem, confinementOf, type Confinement } from "./bubblewrap.ts";
import { buildLocalEnv, hostRustupHome, xdgDirsOf } from "./local-env.ts";
import { exitCodeOf, startLocalProcess, type LocalProcess } from "./local-process.ts";
import type { ExecOptions, ExecResult, Sandbox, SandboxLimits, SandboxProvider, SpawnOptions } from "./sandbox.ts";

const defaultExecTimeoutMs = 10 * 60_000;

/** Marks a parked sandbox directory (with the time it was parked), so the reaper and `resume` know it. */
export const PARKED_MARKER = ".parked";
/** The job a resumed sandbox now works for (its directory is named after the job that created it). */
export const OWNER_MARKER = ".owner";
/** A spare sandbox's name until a job takes it: `spare-<pid of the worker that made it>-<hex>` (and a spare's work repository's, `.git` after it). */
export const SPARE_NAME = /^spare-(\d+)-[0-9a-f]{8}(?:\.git)?$/;
const spareOwnerOf = (pid: number) => `spare-${pid}`;
const SANDBOX_ID = /^[A-Za-z0-9_.-]+-[0-9a-f]{8}$/;

export interface LocalSandboxOptions {
  /** Where sandboxes live: `DATA_DIR/sandboxes`. */
  rootDir: string;
  /** Hidden from every sandbox (other jobs, the mirrors, an embedded Postgres). Default: `rootDir`. */
  dataDir?: string;
  /** The app's secret files (its private key, `.env`), masked in every sandbox. */
  secretFiles?: string[];
  /** Run without bubblewrap: the operator's explicit opt-out, for development only. */
  unconfined?: boolean;
}

/** Throws, saying what to install or set, when bubblewrap cannot run here and the operator did not opt out. */
export function createLocalSandboxProvider(options: LocalSandboxOptions): SandboxProvider {
  const confinement = options.unconfined ? null : hostConfinement(options);
  return {
    name: "local",
    create: (createOptions) => createLocalSandbox({ rootDir: options.rootDir, confinement, ...createOptions }),
    createSpare: (spareOptions) => createLocalSandbox({ rootDir: options.rootDir, confinement, jobId: spareOwnerOf(process.pid), ...spareOptions }),
    resume: (id, resumeOptions) => resumeLocalSandbox({ rootDir: options.rootDir, confinement, id, ...resumeOptions }),
  };
}

function hostConfinement(options: LocalSandboxOptions): Confinement {
  const problem = bubblewrapProblem();
  if (problem !== null) throw new JobError("sandbox", `The local sandbox cannot confine the agent: ${problem}. For development only, ALLOW_UNCONFINED_SANDBOX=true runs it unconfined; E2B is the production path.`);
  return confinementOf({
    dataDir: resolve(options.dataDir ?? options.rootDir),
    hostHome: homedir(),
    path: process.env.PATH ?? "",
    rustupHome: hostRustupHome(),
    opencodeBinary: opencodeBinaryOrNothing(),
    secretFiles: [resolve(".env"), ...(options.secretFiles ?? [])],
  });
}

/** The sandbox runs opencode from the host: its directory must stay visible where HOME is hidden. */
function opencodeBinaryOrNothing(): string | undefined {
  try {
    return resolveOpencodeBinary();
  } catch {
    return undefined;
  }
}

async function createLocalSandbox(options: {
  rootDir: string;
  confinement: Confinement | null;
  jobId: string;
  limits: SandboxLimits;
  env?: Record<string, string>;
}): Promise<Sandbox> {
  // The job id becomes a path segment: keep it from climbing out of rootDir.
  const id = `${options.jobId.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_")}-${randomBytes(4).toString("hex")}`;
  const dir = join(resolve(options.rootDir), id);
  const home = join(dir, "home");
  await Promise.all([join(dir, "workspace"), join(dir, "tmp"), ...Object.values(xdgDirsOf(home))].map((path) => mkdir(path, { recursive: true })));
  return openLocalSandbox({ ...options, id, dir });
}

/** A parked sandbox's directory, taken back (once: the marker goes), or null when it is not here. */
async function resumeLocalSandbox(options: { rootDir: string; confinement: Confinement | null; id: string; jobId: string; limits: SandboxLimits; env?: Record<string, string> }): Promise<Sandbox | null> {
  if (!SANDBOX_ID.test(options.id)) return null;
  const dir = join(resolve(options.rootDir), options.id);
  // The owner first: between the two writes the reaper sees a parked sandbox of a running job, and keeps it.
  const owned = await writeFile(join(dir, OWNER_MARKER), options.jobId, { flag: "w" }).then(
    () => true,
    () => false,
  );
  if (!owned) return null;
  const claimed = await rm(join(dir, PARKED_MARKER)).then(
    () => true,
    () => false,
  );
  return claimed ? openLocalSandbox({ ...options, dir }) : null;
}

function openLocalSandbox(options: { id: string; dir: string; confinement: Confinement | null; limits: SandboxLimits; env?: Record<string, string> }): Sandbox {
  const { id, dir } = options;
  const workdir = join(dir, "workspace");
  const home = join(dir, "home");
  const tmp = join(dir, "tmp");
  const baseEnv = buildLocalEnv({ home, tmp, hostPath: process.env.PATH, execPath: process.execPath, rustupHome: hostRustupHome(), extra: options.env });
  const running = new Set<LocalProcess>();
  let destroying: Promise<void> | undefined;

  const start = (argv: readonly string[], cwd: string | undefined, env: Record<string, string> | undefined, stdin?: string): LocalProcess => {
    if (destroying) throw new JobError("sandbox", `The sandbox ${id} has been destroyed; nothing more can run in it.`);
    const where = resolve(workdir, cwd ?? ".");
    const environment = { ...baseEnv, ...env };
    const confined = options.confinement
      ? { argv: bubblewrapArgv({ argv, cwd: where, env: environment, writable: { workspace: workdir, home, tmp }, confinement: options.confinement }), cwd: where, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } }
      : { argv, cwd: where, env: environment };
    const proc = startLocalProcess(confined.argv, { cwd: confined.cwd, env: confined.env, stdin });
    running.add(proc);
    void proc.closed.then(() => running.delete(proc));
    return proc;
  };

  const destroy = (): Promise<void> => {
    destroying ??= (async () => {
      clearTimeout(lifetime);
      await Promise.all([...running].map((proc) => proc.kill()));
      await rm(dir, { recursive: true, force: true });
    })();
    return destroying;
  };
  const park = async (): Promise<string> => {
    if (destroying) throw new JobError("sandbox", `The sandbox ${id} has been destroyed or parked already.`);
    destroying = (async () => {
      clearTimeout(lifetime);
      await Promise.all([...running].map((proc) => proc.kill()));
      await writeFile(join(dir, PARKED_MARKER), new Date().toISOString());
    })();
    await destroying;
    return id;
  };
  // The sandbox's wall-clock lifetime, as E2B enforces it; unref'd so it never keeps the worker alive.
  const lifetime = options.limits.timeoutMs > 0 ? setTimeout(() => void destroy(), options.limits.timeoutMs).unref() : undefined;

  return {
    id,
    workdir,
    home,
    exec: (command, execOptions) => execCommand(start, withLimits(command, options.limits), execOptions),
    // Servers are not put under the limits: opencode (Bun) and Node reserve gigabytes of
    // address space and a server accumulates CPU time over the whole job, so `ulimit`
    // would kill them for no fault. The job's wall-clock limit bounds them instead.
    spawn: (command, spawnOptions: SpawnOptions = {}) => start(command, spawnOptions.cwd, spawnOptions.env),
    urlOf: (port) => Promise.resolve(`http://127.0.0.1:${port}`),
    writeFile: (path, content) => writeContained(dir, resolve(workdir, path), content),
    readFile: async (path) => (await readContained(dir, resolve(workdir, path))).toString("utf8"),
    readBytes: (path, maxBytes) => readContained(dir, resolve(workdir, path), maxBytes),
    destroy,
    park,
    // The owner marker is what the reapers go by (reap-local.ts), as for a resumed sandbox.
    assign: (jobId) => writeFile(join(dir, OWNER_MARKER), jobId, { flag: "w" }),
  };
}

type Start = (argv: readonly string[], cwd: string | undefined, env: Record<string, string> | undefined, stdin?: string) => LocalProcess;

async function execCommand(start: Start, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const startedAt = Date.now();
  const proc = start(argv, options.cwd, options.env, options.stdin);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.kill();
  }, options.timeoutMs ?? defaultExecTimeoutMs);
  try {
    const code = await proc.exited;
    // Whatever the command left running in its group would hold our pipes open (and
    // outlive the command): "run to completion" includes its children.
    proc.reapGroup();
    await proc.closed;
    // Confined, a command that cannot start is bwrap's failure, not a spawn error: keep the contract.
    const unstartable = code === 1 ? /^bwrap: execvp ([^\n]*)/.exec(proc.stderr.text()) : null;
    if (unstartable) throw new JobError("sandbox", `Could not start \`${argv[0]}\` in the sandbox: ${unstartable[1]}`);
    return {
      exitCode: exitCodeOf(code, proc.signal()),
      stdout: proc.stdout.text(),
      stderr: proc.stderr.text(),
      timedOut,
      durationMs: Date.now() - startedAt,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** `ulimit` applies to the shell and, through `exec`, to the command and everything it starts. */
function withLimits(argv: readonly string[], limits: SandboxLimits): readonly string[] {
  const settings = [
    limits.memoryMb > 0 ? `ulimit -v ${Math.floor(limits.memoryMb * 1024)}` : "",
    limits.cpuSeconds > 0 ? `ulimit -t ${Math.floor(limits.cpuSeconds)}` : "",
  ].filter((line) => line !== "");
  if (settings.length === 0) return argv;
  return ["/bin/sh", "-c", `${settings.join("; ")}; exec "$@"`, "sh", ...argv];
}
