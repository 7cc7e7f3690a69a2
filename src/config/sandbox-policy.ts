import { ConfigError, type Config } from "./load-config.ts";

/**
 * Hosts an E2B sandbox may reach when E2B_EGRESS_ALLOW is not set: GitHub (the clone runs
 * inside the sandbox) and the package registries installs need. Everything else is denied.
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
}

/**
 * What an E2B sandbox may reach: the operator's list (or the default), plus what the job
 * itself needs: GitHub Enterprise when configured, and the model gateway. Without the
 * gateway the model providers' hosts must be in E2B_EGRESS_ALLOW.
 */
export function egressAllowListOf(config: Config, gatewayUrl: string | null): string[] {
  const listed = config.env.E2B_EGRESS_ALLOW?.split(",").map((host) => host.trim()).filter((host) => host !== "") ?? [...DEFAULT_EGRESS_ALLOW];
  const needed = [config.env.GHE_HOST, gatewayUrl ? new URL(gatewayUrl).hostname : undefined].filter((host): host is string => host !== undefined);
  return [...new Set([...listed, ...needed])];
}
