import { z } from "zod";

/** Empty strings count as missing: `FOO=` in a .env file should fall back to the default. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema.optional());
}

function withDefault<T extends z.ZodType>(schema: T, fallback: z.input<T>) {
  return z.preprocess((value) => (value === "" || value === undefined ? fallback : value), schema);
}

const booleanString = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

/** Every environment variable the app reads. Validated once at start (see load-config.ts). */
export const envSchema = z.object({
  /** GitHub App id. Without it the app serves Probot's setup page instead. */
  APP_ID: optional(z.coerce.number().int().positive()),
  /** The GitHub App's private key (PEM; `\n` escapes allowed). */
  PRIVATE_KEY: optional(z.string()),
  /** Path to the private key file, when PRIVATE_KEY is not set. */
  PRIVATE_KEY_PATH: optional(z.string()),
  /** Secret GitHub signs webhook deliveries with. */
  WEBHOOK_SECRET: optional(z.string()),
  /** HTTP port of the web role. */
  PORT: withDefault(z.coerce.number().int().min(0).max(65535), 3000),
  /** Interface the web role listens on. The setup page (no APP_ID) listens on 127.0.0.1 unless it is set. */
  HOST: withDefault(z.string(), "0.0.0.0"),
  /** A smee.io channel GitHub delivers webhooks to, forwarded to this server: the setup page registers it as the webhook URL. */
  WEBHOOK_PROXY_URL: optional(z.url({ protocol: /^https?$/ })),
  /** The setup page registers the GitHub App for this organization instead of the signed-in user. */
  GH_ORG: optional(z.string().regex(/^[A-Za-z0-9-]+$/, "must be an organization login")),
  /** pino level: trace, debug, info, warn, error, fatal. */
  LOG_LEVEL: withDefault(z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]), "info"),
  /** GitHub Enterprise host (Probot's own variable); unset for github.com. */
  GHE_HOST: optional(z.string()),
  /** Protocol for GHE_HOST, `https` unless set. */
  GHE_PROTOCOL: withDefault(z.enum(["http", "https"]), "https"),
  /** Postgres connection string. Unset: an embedded Postgres under DATA_DIR (one process only). */
  DATABASE_URL: optional(z.string().url()),
  /** Postgres connections one process keeps at most (its pool; the queue keeps 4 more). Processes × (this + 4) must stay under the server's max_connections. */
  DATABASE_POOL_SIZE: withDefault(z.coerce.number().int().min(2).max(100), 10),
  /** Where the embedded Postgres, sandboxes and caches live. */
  DATA_DIR: withDefault(z.string(), "./.data"),
  /** What this process does: `web` (webhooks, API), `worker` (runs jobs) or `all`. */
  ROLE: withDefault(z.enum(["web", "worker", "all"]), "all"),
  /** Where the agent runs: `local` (this host) or `e2b`. */
  SANDBOX_PROVIDER: withDefault(z.enum(["local", "e2b"]), "local"),
  /** Permit the local sandbox when NODE_ENV=production (it runs repository code on this host). */
  ALLOW_LOCAL_SANDBOX: withDefault(booleanString, "false"),
  /** Development only: run the local sandbox without bubblewrap where it cannot run (the agent then shares this host: its files, processes and secrets). */
  ALLOW_UNCONFINED_SANDBOX: withDefault(booleanString, "false"),
  /** Local sandbox: address-space limit of each command, in MiB (`ulimit -v`); 0 for none. V8 reserves far more address space than it uses, so keep it generous. */
  SANDBOX_MEMORY_MB: withDefault(z.coerce.number().int().min(0), 0),
  /** Local sandbox: CPU seconds of each command (`ulimit -t`); 0 for none. */
  SANDBOX_CPU_SECONDS: withDefault(z.coerce.number().int().min(0), 0),
  /** E2B API key, required with SANDBOX_PROVIDER=e2b. */
  E2B_API_KEY: optional(z.string()),
  /** E2B template id or name for agent sandboxes. */
  E2B_TEMPLATE: withDefault(z.string(), "running-agent"),
  /** Comma-separated hosts (`*.example.com` allowed) E2B sandboxes may reach; everything else is denied. Default: GitHub and the package registries. */
  E2B_EGRESS_ALLOW: optional(z.string()),
  /** Comma-separated host patterns a repository may add to its sandboxes' egress in `.github/agent.yml` (`sandbox.egress`). Default: none. */
  E2B_EGRESS_REPO_ALLOWED: optional(z.string()),
  /** opencode model id (`provider/model`) for the explore agent. */
  AGENT_MODEL_EXPLORE: withDefault(z.string().regex(/^[^/\s]+\/\S+$/, "must be provider/model"), "google/gemini-2.5-pro"),
  /** opencode model id for the plan agent. */
  AGENT_MODEL_PLAN: withDefault(z.string().regex(/^[^/\s]+\/\S+$/, "must be provider/model"), "google/gemini-2.5-pro"),
  /** opencode model id for the build agent. */
  AGENT_MODEL_BUILD: withDefault(z.string().regex(/^[^/\s]+\/\S+$/, "must be provider/model"), "google/gemini-3-flash-preview"),
  /** JSON object merged into the opencode config each sandbox gets (providers, keys, options). */
  AGENT_OPENCODE_CONFIG: withDefault(z.string(), "{}"),
  /** JSON: the model providers the gateway forwards to, with their real keys (which then never enter a sandbox). Unset: no gateway; keys go in AGENT_OPENCODE_CONFIG. */
  AGENT_GATEWAY_PROVIDERS: optional(z.string()),
  /** Where sandboxes reach the gateway (a web process). Default with ROLE=all: this process. */
  AGENT_GATEWAY_URL: optional(z.url()),
  /** A job stops when its model cost passes this many US dollars. */
  AGENT_MAX_COST_USD: withDefault(z.coerce.number().positive(), 5),
  /** Build → verify rounds before the agent gives up. */
  AGENT_MAX_ITERATIONS: withDefault(z.coerce.number().int().min(1).max(20), 3),
  /** Consecutive failures at least this alike (Jaccard similarity of normalized errors, 0–1) switch the agent to debug mode. */
  AGENT_DEBUG_SIMILARITY: withDefault(z.coerce.number().min(0).max(1), 0.8),
  /** Wall-clock limit of one job. */
  AGENT_TIMEOUT_MINUTES: withDefault(z.coerce.number().positive(), 30),
  /** Seconds between a running job's heartbeats; a worker silent for this long has its job taken over (min 10). */
  AGENT_HEARTBEAT_SECONDS: withDefault(z.coerce.number().int().min(10).max(600), 30),
  /** Hours a finished job's local sandbox (workspace and agent session) is kept for a follow-up on its pull request to continue; 0: never. */
  AGENT_KEEP_WORKSPACE_HOURS: withDefault(z.coerce.number().min(0).max(24 * 30), 24),
  /** Jobs one worker process runs at once. */
  WORKER_CONCURRENCY: withDefault(z.coerce.number().int().min(1).max(64), 2),
  /** Agents a worker keeps started ahead of its jobs (a spare local sandbox with opencode running in it), at most WORKER_CONCURRENCY; 0: none. The local sandbox only. */
  AGENT_WARM_AGENTS: withDefault(z.coerce.number().int().min(0).max(64), 1),
  /** Jobs of one installation (organization or account) running at once across all workers, so one busy organization cannot starve the others. */
  AGENT_MAX_JOBS_PER_INSTALLATION: withDefault(z.coerce.number().int().min(1).max(1000), 4),
  /** `/agent` on a pull request from a fork: `refuse` (the app cannot push there), or `propose` (the agent works on a read-only clone and comments its patch). */
  AGENT_FORK_PULL_REQUESTS: withDefault(z.enum(["refuse", "propose"]), "refuse"),
  /** What of an issue reaches the agent beside its task: `all` (everyone's text, marked by write access) or `writers` (only text by people with write access). */
  AGENT_ISSUE_CONTEXT: withDefault(z.enum(["all", "writers"]), "all"),
  /** The GitHub App's OAuth client id: with its secret, people sign in to the dashboard with GitHub. */
  GITHUB_CLIENT_ID: optional(z.string()),
  /** The GitHub App's OAuth client secret. */
  GITHUB_CLIENT_SECRET: optional(z.string()),
  /** Seals the dashboard's session cookies (any long random string, the same on every web process). Unset: derived from the app's private key. */
  SESSION_SECRET: optional(z.string().min(32, "must be at least 32 characters")),
  /** Where people reach the app (`https://agent.example.com`): the sign-in's callback is `<PUBLIC_URL>/auth/github/callback`. Unset: taken from each request's Host. */
  PUBLIC_URL: optional(z.url({ protocol: /^https?$/ })),
  /** Bearer token for the REST API. Unset: the API answers 401 to everything but /api/health. */
  API_TOKEN: optional(z.string().min(16, "must be at least 16 characters")),
  /** `production` turns on production safety checks. */
  NODE_ENV: optional(z.string()),
});

export type Env = z.infer<typeof envSchema>;
