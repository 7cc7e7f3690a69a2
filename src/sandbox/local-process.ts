/**
 * One child process of the local sandbox: started in its own process group, its output
 * kept in bounded buffers, stoppable as a group. `exec` and `spawn` are both built on it.
 */
import { spawn as spawnChild } from "node:child_process";
import { constants } from "node:os";
import { JobError } from "../job-error.ts";
import { createOutputBuffer, type OutputBuffer } from "./output-buffer.ts";
import { signalGroup, terminateGroup } from "./process-group.ts";
import type { SandboxProcess } from "./sandbox.ts";

export interface LocalProcess extends SandboxProcess {
  readonly stdout: OutputBuffer;
  readonly stderr: OutputBuffer;
  /** Resolves once the process has exited AND its pipes are closed (all output read). */
  readonly closed: Promise<void>;
  /** The signal that ended the process, if one did. */
  signal(): NodeJS.Signals | null;
  /** SIGKILL whatever the finished leader left behind in its group. */
  reapGroup(): void;
}

export interface StartOptions {
  cwd: string;
  env: Record<string, string>;
  stdin?: string;
}

export function startLocalProcess(argv: readonly string[], options: StartOptions): LocalProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new JobError("sandbox", "Cannot run an empty command in the sandbox.");
  const child = spawnChild(file, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const stdout = createOutputBuffer();
  const stderr = createOutputBuffer();
  const combined = createOutputBuffer();
  const listeners = new Set<() => void>();
  const onData = (target: OutputBuffer) => (chunk: string) => {
    target.append(chunk);
    combined.append(chunk);
    for (const listener of listeners) listener();
  };
  child.stdout?.setEncoding("utf8").on("data", onData(stdout));
  child.stderr?.setEncoding("utf8").on("data", onData(stderr));
  if (options.stdin !== undefined) {
    // A command that exits without reading its input makes the write fail with EPIPE; that is its business.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.stdin);
  }

  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) => reject(new JobError("sandbox", `Could not start \`${file}\` in the sandbox: ${error.message}`, { cause: error })));
    child.once("exit", (code) => resolve(code));
  });
  // Callers that never look at `exited` must not turn a failed start into an unhandled rejection.
  exited.catch(() => {});
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));

  const waitForOutput = (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> => {
    const once = new RegExp(pattern.source, pattern.flags.replace("g", ""));
    return new Promise((resolve, reject) => {
      const finish = (outcome: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        outcome();
      };
      const check = (): void => {
        const match = combined.text().match(once);
        if (match) finish(() => resolve(match));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`No output matching ${pattern} within ${timeoutMs} ms.`))), timeoutMs);
      listeners.add(check);
      // Wait for the pipes to drain: the line may still be in flight when the exit is reported.
      exited.then(
        (code) =>
          closed.then(() => {
            check();
            finish(() => reject(new Error(`The process exited (code ${code}) before printing ${pattern}.`)));
          }),
        (error: unknown) => finish(() => reject(error)),
      );
      check();
    });
  };

  return {
    stdout,
    stderr,
    closed,
    exited,
    output: () => combined.text(),
    waitForOutput,
    kill: () => terminateGroup(child),
    signal: () => child.signalCode,
    reapGroup: () => {
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    },
  };
}

/** A shell-style exit code: the code, or 128 + the signal's number when a signal ended the process. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}
