/**
 * The local sandbox: a directory on this host and child processes in their own process
 * groups. It isolates the environment (allow-listed variables, its own HOME) and the
 * lifetime of processes, not the file system or the network: that is why production
 * refuses it unless enabled (decided elsewhere; this provider refuses nothing).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { JobError } from "../jobs/errors.ts";
import { buildLocalEnv, hostRustupHome, xdgDirsOf } from "./local-env.ts";
import { exitCodeOf, startLocalProcess, type LocalProcess } from "./local-process.ts";
import type { ExecOptions, ExecResult, Sandbox, SandboxLimits, SandboxProvider, SpawnOptions } from "./sandbox.ts";

const defaultExecTimeoutMs = 10 * 60_000;

/** Marks a parked sandbox directory (with the time it was parked), so the reaper and `resume` know it. */
export const PARKED_MARKER = ".parked";
/** The job a resumed sandbox now works for (its directory is named after the job that created it). */
export const OWNER_MARKER = ".owner";
const SANDBOX_ID = /^[A-Za-z0-9_.-]+-[0-9a-f]{8}$/;

export function createLocalSandboxProvider(options: { rootDir: string }): SandboxProvider {
  return {
    name: "local",
    create: (createOptions) => createLocalSandbox({ rootDir: options.rootDir, ...createOptions }),
    resume: (id, resumeOptions) => resumeLocalSandbox({ rootDir: options.rootDir, id, ...resumeOptions }),
  };
}

async function createLocalSandbox(options: {
  rootDir: string;
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
async function resumeLocalSandbox(options: { rootDir: string; id: string; jobId: string; limits: SandboxLimits; env?: Record<string, string> }): Promise<Sandbox | null> {
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

function openLocalSandbox(options: { id: string; dir: string; limits: SandboxLimits; env?: Record<string, string> }): Sandbox {
  const { id, dir } = options;
  const workdir = join(dir, "workspace");
  const home = join(dir, "home");
  const tmp = join(dir, "tmp");
  const baseEnv = buildLocalEnv({ home, tmp, hostPath: process.env.PATH, execPath: process.execPath, rustupHome: hostRustupHome(), extra: options.env });
  const running = new Set<LocalProcess>();
  let destroying: Promise<void> | undefined;

  const start = (argv: readonly string[], cwd: string | undefined, env: Record<string, string> | undefined, stdin?: string): LocalProcess => {
    if (destroying) throw new JobError("sandbox", `The sandbox ${id} has been destroyed; nothing more can run in it.`);
    const proc = startLocalProcess(argv, { cwd: resolve(workdir, cwd ?? "."), env: { ...baseEnv, ...env }, stdin });
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
    writeFile: async (path, content) => {
      const target = resolve(workdir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    },
    readFile: (path) => readFile(resolve(workdir, path), "utf8"),
    destroy,
    park,
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
