/**
 * git on the worker's own host, for the repositories the worker owns (the mirrors, each
 * job's work repository): the only git that ever holds a token. Nothing a sandbox can
 * write is read here: no system or global config (`GIT_CONFIG_NOSYSTEM`,
 * `GIT_CONFIG_GLOBAL=/dev/null`), an empty HOME of its own, no hooks, no fsmonitor, no
 * `ext::` transport, and an environment built from an allow-list.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { exitCodeOf, startLocalProcess } from "./local-process.ts";

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface HostGitOptions {
  /** The repository token, handed to this one command as an `http.extraHeader`; never written anywhere. */
  token?: string | null;
  timeoutMs?: number;
  cwd?: string;
  stdin?: string;
}

const defaultTimeoutMs = 10 * 60_000;
const SAFETY = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "protocol.ext.allow=never", "-c", "credential.helper="];

export async function runHostGit(args: readonly string[], options: HostGitOptions = {}): Promise<GitResult> {
  const env = { ...hostEnv(), ...(options.token ? credentialEnv(options.token) : {}) };
  const proc = startLocalProcess(["git", ...SAFETY, ...args], { cwd: options.cwd ?? emptyHome(), env, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.kill();
  }, options.timeoutMs ?? defaultTimeoutMs);
  try {
    const code = await proc.exited;
    proc.reapGroup();
    await proc.closed;
    return { exitCode: exitCodeOf(code, proc.signal()), stdout: proc.stdout.text(), stderr: proc.stderr.text(), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * git on this host whose whole output is wanted, as bytes (a listing of every path, a
 * `cat-file --batch` of blobs): not bounded as `runHostGit`'s is, but by `maxBytes`. Local
 * reads only: it takes no token. Rejects with git's stderr when git fails or the output
 * would exceed `maxBytes`.
 */
export function readHostGit(args: readonly string[], options: { what: string; stdin?: string; maxBytes: number; timeoutMs?: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      [...SAFETY, ...args],
      { cwd: emptyHome(), env: hostEnv(), encoding: "buffer", maxBuffer: options.maxBytes, timeout: options.timeoutMs ?? defaultTimeoutMs, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${options.what} failed: ${lastLines(stderr.toString("utf8")) || error.message}`, { cause: error }));
        else resolve(stdout);
      },
    );
    if (options.stdin !== undefined) {
      child.stdin?.on("error", () => {});
      child.stdin?.end(options.stdin);
    }
  });
}

/** Whether git failed for the network's or the remote's sake (worth another attempt). */
export function isTransientGitFailure(result: GitResult): boolean {
  if (result.timedOut) return true;
  return /(could not resolve host|connection (timed out|reset|refused)|early EOF|the remote end hung up|HTTP 5\d\d|returned error: 5\d\d|RPC failed)/i.test(result.stderr);
}

/** The end of git's stderr, without its `hint:` paragraphs, which bury the actual error. */
export function lastLines(text: string, count = 5): string {
  return text
    .trim()
    .split("\n")
    .filter((line) => !line.startsWith("hint:"))
    .slice(-count)
    .join("\n");
}

let home: string | undefined;

/**
 * An empty directory of this process's own (0700), as HOME: nothing for git to find there,
 * not even a `.netrc`, which git's HTTP reads from HOME. Removed when the process exits.
 */
function emptyHome(): string {
  if (home === undefined) {
    const made = mkdtempSync(path.join(tmpdir(), "running-agent-git-home-"));
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
    home = made;
  }
  return home;
}

/** What git needs from the worker's environment (PATH, proxies, CA bundles), and none of its secrets. */
function hostEnv(): Record<string, string> {
  const passed = ["PATH", "TMPDIR", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "SSL_CERT_FILE", "SSL_CERT_DIR"];
  const env: Record<string, string> = { HOME: emptyHome(), LANG: "C", LC_ALL: "C", GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_ATTR_NOSYSTEM: "1" };
  for (const name of passed) {
    const value = process.env[name];
    if (value !== undefined && value !== "") env[name] = value;
  }
  return env;
}

function credentialEnv(token: string): Record<string, string> {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
}
