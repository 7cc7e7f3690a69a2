/**
 * The local sandbox's confinement: every process it starts runs under bubblewrap (`bwrap`,
 * Debian package `bubblewrap`), in its own PID, mount, IPC and UTS namespaces. The host's
 * file system is read-only; the sandbox's workspace, HOME and tmp are its only writable
 * places; the data directory (other jobs, the mirrors, an embedded Postgres), the host
 * user's HOME (keys, tokens) and `/run` (sockets) are hidden; the app's secret files are
 * masked. When the command ends its PID namespace ends, and everything it started with
 * it: a `setsid -f` survivor included. The network is shared: the agent needs the model,
 * the gateway and package registries (README says what that leaves reachable).
 */
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";

/** What the sandbox must not see of the host, and what it still needs from there. */
export interface Confinement {
  /** Directories replaced by an empty, read-only directory: the data directory, the host user's HOME. */
  hidden: string[];
  /** Files replaced by an empty file: the app's `.env`, its private key. */
  masked: string[];
  /** Directories shown again, read-only, where a hidden one covers them: the tools' directories on PATH, RUSTUP_HOME, the opencode binary's. */
  readOnly: string[];
}

export interface ConfinedCommand {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** The sandbox's own directories, writable: workspace, HOME, tmp (its TMPDIR). */
  writable: { workspace: string; home: string; tmp: string };
  confinement: Confinement;
}

/** The `bwrap` command line that runs `command.argv` confined. Pure: the order of mounts is the point. */
export function bubblewrapArgv(command: ConfinedCommand): string[] {
  const { confinement, writable } = command;
  // Order matters: a mount covers what an earlier one put at or under its path. A fresh /tmp
  // first (it hides whatever of the host's is there; TMPDIR is the sandbox's own, shared by
  // its commands), then what is hidden, what is shown again inside it, the sandbox's
  // directories, and last the hidden ones made read-only.
  const hidden = [...byDepth(confinement.hidden.filter((dir) => dir !== "/tmp" && !dir.startsWith("/tmp/"))), "/run"];
  const mounts = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"];
  for (const dir of hidden) mounts.push("--tmpfs", dir);
  for (const dir of byDepth(confinement.readOnly)) mounts.push("--ro-bind-try", dir, dir);
  for (const file of confinement.masked) mounts.push("--ro-bind-try", "/dev/null", file);
  for (const dir of [writable.workspace, writable.home, writable.tmp]) mounts.push("--bind", dir, dir);
  for (const dir of hidden) mounts.push("--remount-ro", dir);
  const env = Object.entries(command.env).flatMap(([name, value]) => ["--setenv", name, value]);
  return [
    "bwrap",
    ...mounts,
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--hostname",
    "sandbox",
    // Run as root (the worker's user in a container, or a dev box), the sandbox would keep every capability: remount, ptrace.
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--clearenv",
    ...env,
    "--chdir",
    command.cwd,
    "--",
    ...command.argv,
  ];
}

/**
 * What a local sandbox on this host hides and still needs: the data directory and the
 * worker's HOME hidden; PATH's directories (where the tools are, some of them under HOME:
 * cargo), rustup's toolchains and the opencode binary shown again; the app's secrets masked.
 */
export function confinementOf(input: { dataDir: string; hostHome: string; path: string; rustupHome?: string | undefined; opencodeBinary?: string | undefined; secretFiles: string[] }): Confinement {
  const hidden = [input.dataDir, input.hostHome].filter((dir) => isAbsolute(dir) && dir !== "/").map(realOrSelf);
  const toolDirs = input.path.split(":").filter((dir) => isAbsolute(dir));
  const needed = [...toolDirs, ...toolDirs.map(realOrSelf), input.rustupHome, input.opencodeBinary ? dirname(realOrSelf(input.opencodeBinary)) : undefined];
  const isHidden = (dir: string) => [...hidden, "/tmp", "/run"].some((parent) => dir.startsWith(`${parent}/`));
  return {
    hidden: [...new Set(hidden)],
    masked: input.secretFiles.filter((file) => existsSync(file)).map(realOrSelf),
    readOnly: [...new Set(needed.filter((dir): dir is string => dir !== undefined && isAbsolute(dir) && isHidden(dir)))],
  };
}

export class BubblewrapUnavailable extends Error {
  override name = "BubblewrapUnavailable";
}

const probed = new Map<string, string | null>();

/**
 * Whether bubblewrap can make its namespaces here: null when it can, else why not, in one
 * line. Asked once per process and PATH (it costs a few milliseconds).
 */
export function bubblewrapProblem(envPath = process.env.PATH ?? ""): string | null {
  if (!probed.has(envPath)) probed.set(envPath, probeBubblewrap(envPath));
  return probed.get(envPath)!;
}

function probeBubblewrap(envPath: string): string | null {
  // In a session of its own (`setsid --wait`): a terminal's Ctrl-C during start-up must not
  // kill the check and pass for a failure.
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--cap-drop", "ALL", "--die-with-parent", "--", "true"];
  const result = spawnSync("setsid", ["--wait", "bwrap", ...args], { encoding: "utf8", timeout: 30_000, env: { PATH: envPath } });
  if (/failed to execute bwrap|No such file/.test(result.stderr ?? "") || (result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    return "bubblewrap (`bwrap`) is not installed: install the Debian package `bubblewrap` (apt-get install bubblewrap)";
  }
  if (result.status === 0) return null;
  const reason = (result.stderr || result.error?.message || `exit code ${result.status}`).trim().split("\n")[0];
  return `bubblewrap cannot create the sandbox's namespaces here (${reason}); in Docker, run the container with a seccomp profile that allows user namespaces (see the README)`;
}

function byDepth(paths: readonly string[]): string[] {
  return [...new Set(paths)].sort((a, b) => a.split("/").length - b.split("/").length);
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
