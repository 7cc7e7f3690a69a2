/**
 * The environment of a local sandbox's processes, built from an allow-list. Never a copy
 * of the worker's own `process.env`: that holds the app's private key, webhook secret
 * and database URL, and the agent must see none of them.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";

export interface LocalEnvInput {
  home: string;
  tmp: string;
  /** The host's PATH (the one thing taken from the worker's environment). */
  hostPath: string | undefined;
  /** The Node running the worker; its directory goes first on PATH so tools get the same Node. */
  execPath: string;
  /** Where rustup keeps its toolchains: its `cargo` on PATH cannot choose one without it, since HOME is the sandbox's. */
  rustupHome?: string | undefined;
  extra?: Record<string, string>;
}

export function buildLocalEnv(input: LocalEnvInput): Record<string, string> {
  return {
    PATH: pathWithNodeFirst(input.hostPath, input.execPath),
    LANG: "C.UTF-8",
    HOME: input.home,
    TMPDIR: input.tmp,
    ...xdgDirsOf(input.home),
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    CI: "true",
    ...(input.rustupHome ? { RUSTUP_HOME: input.rustupHome } : {}),
    ...input.extra,
  };
}

/** Per-sandbox XDG directories, so that tools (opencode, npm caches) never touch the host user's. */
export function xdgDirsOf(home: string): Record<string, string> {
  return {
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
  };
}

function pathWithNodeFirst(hostPath: string | undefined, execPath: string): string {
  const nodeDir = dirname(execPath);
  const rest = (hostPath ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter).filter((dir) => dir !== "" && dir !== nodeDir);
  return [nodeDir, ...rest].join(delimiter);
}

/** The host's rustup toolchains, when rustup is how this host has Rust: `RUSTUP_HOME`, or `~/.rustup`. */
export function hostRustupHome(env: NodeJS.ProcessEnv = process.env, home = homedir()): string | undefined {
  if (env.RUSTUP_HOME) return env.RUSTUP_HOME;
  const fallback = join(home, ".rustup");
  return existsSync(fallback) ? fallback : undefined;
}
