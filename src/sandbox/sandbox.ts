/**
 * Where a job's code runs. Two providers: `local` (a directory and child processes on
 * this host, for development and tests) and `e2b` (a cloud microVM, for production).
 * Everything the worker does to the workspace goes through this interface, so that the
 * same recipe runs in both.
 */
export interface Sandbox {
  readonly id: string;
  /** Absolute path, inside the sandbox, of the repository checkout. */
  readonly workdir: string;
  /** Absolute path, inside the sandbox, of the HOME the sandbox's processes get. */
  readonly home: string;
  /** Run a command to completion. Never throws for a non-zero exit; throws only when it cannot start. */
  exec(command: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Start a long-running process (a server). */
  spawn(command: readonly string[], options?: SpawnOptions): SandboxProcess;
  /** Base URL (`http://host:port`) at which the worker reaches a port the sandbox listens on. */
  urlOf(port: number): Promise<string>;
  /** Headers a client must send to reach those ports (E2B's traffic access token); none for the local sandbox. */
  requestHeaders?(): Record<string, string>;
  /** Relative paths are under `workdir`. The local sandbox refuses a path that leads out of the sandbox through a link. */
  writeFile(path: string, content: string | Uint8Array): Promise<void>;
  readFile(path: string): Promise<string>;
  /** A file's bytes (a bundle of the agent's commits); refuses, without reading it, a file larger than `maxBytes`. */
  readBytes(path: string, maxBytes: number): Promise<Buffer>;
  /** Kill every process and remove every file. Safe to call twice. */
  destroy(): Promise<void>;
  /**
   * Kill every process but keep the workspace and HOME (the agent's sessions live there),
   * for a follow-up on the same pull request to resume. Returns what `resume` takes. After
   * it, the sandbox is unusable, as after `destroy`. Providers that cannot resume lack it.
   */
  park?(): Promise<string>;
  /**
   * Hand a spare sandbox, made before its job was known (a warm agent, src/jobs/warm-agents.ts),
   * to the job: from now on the reapers treat it as that job's. Providers without spares lack it.
   */
  assign?(jobId: string): Promise<void>;
}

export interface ExecOptions {
  /** Defaults to `workdir`. */
  cwd?: string;
  /** Added to the sandbox's base environment for this command only. */
  env?: Record<string, string>;
  /** Kill the command (its whole process group) after this long. Default 10 minutes. */
  timeoutMs?: number;
  stdin?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
}

export interface SandboxProcess {
  /** Everything written to stdout and stderr so far (bounded; oldest output dropped). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects when the process exits first or the time is up. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the process group, SIGKILL after a short grace period. Resolves when it is gone. */
  kill(): Promise<void>;
}

export interface SandboxLimits {
  /** Wall-clock lifetime of the sandbox. */
  timeoutMs: number;
  /** Address-space limit for each process, in MiB (local provider: `ulimit -v`); 0 for none. */
  memoryMb: number;
  /** CPU seconds per process (local provider: `ulimit -t`); 0 for none. */
  cpuSeconds: number;
}

export interface SandboxProvider {
  readonly name: "local" | "e2b";
  /** A sandbox for no job yet, to be `assign`ed to one; absent where a sandbox must be made for its job (E2B names it in its metadata). */
  createSpare?(options: { limits: SandboxLimits }): Promise<Sandbox>;
  /** `egress`: hosts this job may reach beyond the provider's allow-list (granted to the repository by the operator). */
  create(options: { jobId: string; limits: SandboxLimits; env?: Record<string, string>; egress?: readonly string[] }): Promise<Sandbox>;
  /** A parked sandbox back, as it was left; null when it is gone (reaped, or parked on another machine). */
  resume?(id: string, options: { jobId: string; limits: SandboxLimits; env?: Record<string, string> }): Promise<Sandbox | null>;
}
