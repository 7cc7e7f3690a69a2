/**
 * `exec` and `spawn` of the Sandbox interface on E2B's commands API. The SDK runs every
 * command as `/bin/bash -l -c <string>`, throws `CommandExitError` for a non-zero exit,
 * and does not tie a command to its stream: a command whose caller gave up (the SDK's
 * own `timeoutMs`) keeps running in the VM. So commands start in the background with no
 * SDK deadline, and the deadline here kills them by pid.
 */
import { randomBytes } from "node:crypto";
import { CommandExitError, type CommandHandle, type Commands, type Filesystem } from "e2b";
import { JobError } from "../job-error.ts";
import { createOutputBuffer } from "./output-buffer.ts";
import type { ExecResult, SandboxProcess } from "./sandbox.ts";

/** The two SDK modules a command needs: the SDK boundary, nothing of ours. */
export interface E2bCommandTarget {
  commands: Commands;
  files: Filesystem;
}

export interface E2bRunOptions {
  cwd: string;
  envs: Record<string, string>;
}

/** envd kills with SIGKILL and reports exit code -1; report it as a shell would. */
const killedExitCode = 128 + 9;
/** How long a killed command may take to report its end before we stop listening. */
const killGraceMs = 5_000;

export async function execInE2b(
  target: E2bCommandTarget,
  argv: readonly string[],
  options: E2bRunOptions & { timeoutMs: number; stdin?: string },
): Promise<ExecResult> {
  const startedAt = Date.now();
  // The SDK can only stream stdin to a command it keeps open; a file is one round trip.
  const stdinPath = options.stdin === undefined ? null : `/tmp/running-agent-stdin-${randomBytes(8).toString("hex")}`;
  const stdout = createOutputBuffer();
  const stderr = createOutputBuffer();
  try {
    if (stdinPath !== null) await target.files.write(stdinPath, options.stdin ?? "");
    const handle = await startCommand(target, argv, stdinPath, options, { onStdout: (data) => stdout.append(data), onStderr: (data) => stderr.append(data) });
    const { exitCode, timedOut } = await waitWithDeadline(handle, options.timeoutMs);
    return { exitCode, stdout: stdout.text(), stderr: stderr.text(), timedOut, durationMs: Date.now() - startedAt };
  } finally {
    if (stdinPath !== null) await target.files.remove(stdinPath).catch(() => undefined);
  }
}

/** A background command; `track` hears of its handle so that the sandbox can let go of it. */
export function spawnInE2b(target: E2bCommandTarget, argv: readonly string[], options: E2bRunOptions, track: (handle: CommandHandle) => void): SandboxProcess {
  const output = createOutputBuffer();
  const listeners = new Set<() => void>();
  const append = (chunk: string): void => {
    output.append(chunk);
    for (const listener of [...listeners]) listener();
  };
  const started = startCommand(target, argv, null, options, { onStdout: append, onStderr: append }).then(
    (handle) => (track(handle), handle),
    (error: unknown) => (append(`${messageOf(error)}\n`), null),
  );
  let ended = false;
  const exited = started
    .then((handle) => (handle === null ? null : exitCodeOf(handle).then((code) => (code === killedExitCode ? null : code), () => null)))
    .then((code) => {
      ended = true;
      for (const listener of [...listeners]) listener();
      return code;
    });
  let killing: Promise<void> | undefined;
  return {
    output: () => output.text(),
    exited,
    waitForOutput: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = (): void => {
          const match = output.text().match(pattern);
          if (match) return (done(), resolve(match));
          if (ended) return (done(), reject(new Error(`the process exited before printing ${String(pattern)}`)));
        };
        const timer = setTimeout(() => (done(), reject(new Error(`nothing matched ${String(pattern)} within ${timeoutMs} ms`))), timeoutMs);
        listeners.add(check);
        check();
      }),
    // SIGKILL at once: envd's kill has no gentler signal, and the VM is the job's alone.
    kill: () =>
      (killing ??= (async () => {
        const handle = await started;
        if (handle === null || ended) return;
        await handle.kill().catch(() => false);
        if (!(await endsWithin(exited, killGraceMs))) await handle.disconnect();
        await exited;
      })()),
  };
}

/** `exec` replaces the login shell, so the pid envd reports (and kills) is the command's own. */
export function commandLineOf(argv: readonly string[], stdinPath: string | null): string {
  if (argv.length === 0) throw new JobError("internal", "an empty command was given to the sandbox");
  return `exec ${argv.map(shellQuote).join(" ")} < ${shellQuote(stdinPath ?? "/dev/null")}`;
}

export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

async function startCommand(
  target: E2bCommandTarget,
  argv: readonly string[],
  stdinPath: string | null,
  options: E2bRunOptions,
  output: { onStdout: (data: string) => void; onStderr: (data: string) => void },
): Promise<CommandHandle> {
  try {
    // timeoutMs 0: no deadline on the stream; ours is below (the SDK's default is 60 s).
    return await target.commands.run(commandLineOf(argv, stdinPath), { background: true, cwd: options.cwd, envs: options.envs, timeoutMs: 0, ...output });
  } catch (error) {
    throw new JobError("sandbox", `could not start \`${argv.join(" ")}\` in the E2B sandbox: ${messageOf(error)}`, { retryable: true, cause: error });
  }
}

async function waitWithDeadline(handle: CommandHandle, timeoutMs: number): Promise<{ exitCode: number; timedOut: boolean }> {
  const exit = exitCodeOf(handle);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), timeoutMs);
  });
  try {
    const first = await Promise.race([exit, deadline]);
    if (first !== "deadline") return { exitCode: first, timedOut: false };
  } finally {
    clearTimeout(timer);
  }
  await handle.kill().catch(() => false);
  if (await endsWithin(exit, killGraceMs)) return { exitCode: await exit, timedOut: true };
  await handle.disconnect();
  return { exitCode: killedExitCode, timedOut: true };
}

/** The command's exit code; rejects only when the stream broke (the sandbox is gone). */
async function exitCodeOf(handle: CommandHandle): Promise<number> {
  try {
    return (await handle.wait()).exitCode;
  } catch (error) {
    if (error instanceof CommandExitError) return error.exitCode < 0 ? killedExitCode : error.exitCode;
    throw new JobError("sandbox", `lost the E2B command: ${messageOf(error)}`, { retryable: true, cause: error });
  }
}

async function endsWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
