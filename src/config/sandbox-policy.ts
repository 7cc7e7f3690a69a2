import { bubblewrapProblem } from "../sandbox/bubblewrap.ts";
import { ConfigError, type Config } from "./load-config.ts";

/**
 * Hosts an E2B sandbox may reach when E2B_EGRESS_ALLOW is not set: the package registries
 * installs need, and GitHub for the git dependencies some of them name (the checkout itself
 * arrives as a bundle from the worker). Everything else is denied.
 */
export const DEFAULT_EGRESS_ALLOW = [
  "github.com",
  "*.github.com",
  "*.githubusercontent.com",
  "registry.npmjs.org",
  "registry.yarnpkg.com",
  "pypi.org",
  "files.pythonhosted.org",
  "crates.io",
  "index.crates.io",
  "static.crates.io",
  "proxy.golang.org",
  "sum.golang.org",
  "repo.maven.apache.org",
  "repo1.maven.org",
  "rubygems.org",
] as const;

/** Refuse, at start, a sandbox set-up that would put the host or its secrets at risk, saying what to change. */
export function checkSandboxPolicy(config: Config): void {
  const env = config.env;
  if (env.SANDBOX_PROVIDER === "e2b") {
    if (!env.E2B_API_KEY) throw new ConfigError("SANDBOX_PROVIDER=e2b needs E2B_API_KEY (from https://e2b.dev/dashboard).");
    return;
  }
  if (env.NODE_ENV === "production" && !env.ALLOW_LOCAL_SANDBOX) {
    throw new ConfigError(
      "SANDBOX_PROVIDER=local runs repository code directly on this host, which is refused with NODE_ENV=production. Use SANDBOX_PROVIDER=e2b, or set ALLOW_LOCAL_SANDBOX=true if this host is itself disposable and isolated.",
    );
  }
  // A web process runs no sandbox.
  if (env.ROLE !== "web") checkLocalConfinement(config);
}

/** The local sandbox runs under bubblewrap, or not at all unless the operator opted out: at start, in one line. */
export function checkLocalConfinement(config: Config, envPath = process.env.PATH ?? ""): void {
  if (config.env.ALLOW_UNCONFINED_SANDBOX) return;
  const problem = bubblewrapProblem(envPath);
  if (problem === null) return;
  throw new ConfigError(`The local sandbox cannot confine the agent: ${problem}. Install bubblewrap, or use SANDBOX_PROVIDER=e2b; for development only, ALLOW_UNCONFINED_SANDBOX=true runs it unconfined.`);
}

/**
 * What an E2B sandbox may reach: the operator's list (or the default), plus what the job
 * itself needs: GitHub Enterprise when configured, and the model gateway. Without the
 * gateway the model providers' hosts must be in E2B_EGRESS_ALLOW.
 */
export function egressAllowListOf(config: Config, gatewayUrl: string | null): string[] {
  const listed = config.env.E2B_EGRESS_ALLOW === undefined ? [...DEFAULT_EGRESS_ALLOW] : commaList(config.env.E2B_EGRESS_ALLOW);
  const needed = [config.env.GHE_HOST, gatewayUrl ? new URL(gatewayUrl).hostname : undefined].filter((host): host is string => host !== undefined);
  return [...new Set([...listed, ...needed])];
}

/**
 * The hosts a repository asked for in `.github/agent.yml` (`sandbox.egress`), split into
 * those the operator lets repositories add (E2B_EGRESS_REPO_ALLOWED) and the rest. A
 * request is granted when a pattern covers it: the same host, or `*.example.com` for
 * `example.com`'s subdomains (and a requested `*.sub.example.com` under it).
 */
export function repositoryEgressOf(requested: readonly string[], operatorPatterns: readonly string[]): { granted: string[]; refused: string[] } {
  const granted: string[] = [];
  const refused: string[] = [];
  for (const host of new Set(requested.map((entry) => entry.toLowerCase()))) {
    (operatorPatterns.some((pattern) => covers(pattern.toLowerCase(), host)) ? granted : refused).push(host);
  }
  return { granted, refused };
}

export function operatorEgressPatternsOf(config: Config): string[] {
  return commaList(config.env.E2B_EGRESS_REPO_ALLOWED ?? "");
}

function covers(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith("*.")) return false;
  const domain = pattern.slice(1); // ".example.com"
  const bare = host.startsWith("*.") ? host.slice(1) : host;
  return bare.endsWith(domain) && bare.length > domain.length;
}

function commaList(text: string): string[] {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}
