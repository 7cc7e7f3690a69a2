/**
 * `opencode serve` inside a sandbox, and an SDK client for it. One server per job:
 * its own port, password, HOME and config, so that parallel jobs never share state.
 */
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { createOpencodeClient, type Config, type OpencodeClient } from "@opencode-ai/sdk/v2";
import { JobError } from "../job-error.ts";
import { describesAllItsModels } from "./opencode-config.ts";
import { findFreePort } from "../free-port.ts";
import { xdgDirsOf } from "../sandbox/local-env.ts";
import type { Sandbox, SandboxProcess } from "../sandbox/sandbox.ts";
import { resolveOpencodeBinary } from "../sandbox/opencode-binary.ts";

export interface OpencodeServer {
  /** Base URL the worker reaches the server at. */
  url: string;
  password: string;
  /** The directory the client works in (the sandbox's workdir). */
  directory: string;
  client: OpencodeClient;
  /** Resolves when the server process ends, for whatever reason. */
  exited: Promise<number | null>;
  /** Everything the server printed lately (bounded), for error reports. */
  output(): string;
  /** Kill the server's process group; resolves when it is gone. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOpencodeServerOptions {
  config: Config;
  /** Path of the binary inside the sandbox. Default: resolved on this host, which suits the local sandbox. */
  binary?: string;
  /** `127.0.0.1` for the local sandbox; E2B needs `0.0.0.0` to reach it from outside. */
  hostname?: string;
  /** Default: a port free on this host. */
  port?: number;
  startTimeoutMs?: number;
  /** Added to the server's environment (model API keys). Everything the agent runs can read it. */
  env?: Record<string, string>;
  /** Read the repository's own opencode config and AGENTS.md. Off by default: see `isolationEnv`. */
  projectConfig?: boolean;
  /**
   * Boot the workdir too, as its first prompt would (`bootWorkdir`): for a warm agent,
   * before its job. The workdir must be a git repository already (a checkout, or an empty
   * one the job's clone fills): opencode finds a directory's project once, at the first
   * request about it. Its config must hold the job's way to the models already (a warm
   * agent's gateway token, bound when a job takes it): it too is read once.
   */
  bootWorkdir?: boolean;
}

/**
 * Switches that keep opencode from reaching out or reading the host's state: the model
 * catalog fetch, update checks, sharing, LSP downloads, the user's ~/.claude prompts and
 * skills. Project config (`opencode.json`, `.opencode/` in the repository) is off too
 * unless asked for: the repository is untrusted, and its config could point our
 * provider's API key at another URL. The same switch makes opencode skip the repository's
 * AGENTS.md, so prompts must carry what the agent needs from it.
 */
const isolationEnv: Record<string, string> = {
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_SHARE: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  OPENCODE_DISABLE_CLAUDE_CODE: "1",
  OPENCODE_DISABLE_EXTERNAL_SKILLS: "1",
  OPENCODE_DISABLE_EMBEDDED_WEB_UI: "1",
};

const listeningLine = /opencode server listening on (https?:\/\/\S+)/;
/** Longest the server's warm-up may hold up its start (see `warmUp`). */
const WARM_UP_MS = 60_000;

export async function startOpencodeServer(sandbox: Sandbox, options: StartOpencodeServerOptions): Promise<OpencodeServer> {
  const binary = options.binary ?? resolveOpencodeBinary();
  const hostname = options.hostname ?? "127.0.0.1";
  // Not `--port 0`: opencode then listens on 4096 when it is free, and parallel servers
  // collide. A port taken meanwhile makes opencode hang silently (seen here), so the
  // start timeout below is what reports it. For E2B the host's free port is just a
  // random one, and the sandbox's VM is otherwise empty.
  const port = options.port ?? (await findFreePort());
  const password = randomBytes(24).toString("base64url");
  const config = options.bootWorkdir ? { ...options.config, provider: { ...options.config.provider, ...bootProvider } } : options.config;
  const catalogEnv = await modelCatalogEnv(sandbox, config);
  const server = sandbox.spawn([binary, "serve", "--hostname", hostname, "--port", String(port)], {
    cwd: sandbox.workdir,
    env: {
      ...xdgDirsOf(sandbox.home),
      HOME: sandbox.home,
      ...options.env,
      ...isolationEnv,
      ...(options.projectConfig ? {} : { OPENCODE_DISABLE_PROJECT_CONFIG: "1" }),
      ...catalogEnv,
      OPENCODE_SERVER_PASSWORD: password,
      OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
    },
  });
  await waitUntilListening(server, options.startTimeoutMs ?? 30_000);
  const url = await sandbox.urlOf(port);
  const client = createOpencodeClient({
    baseUrl: url,
    directory: sandbox.workdir,
    headers: authHeadersOf(sandbox, password),
  });
  await warmUp(client);
  if (options.bootWorkdir) await bootWorkdir(client);
  let stopping: Promise<void> | undefined;
  return {
    url,
    password,
    directory: sandbox.workdir,
    client,
    exited: server.exited,
    output: () => server.output(),
    stop: () => (stopping ??= server.kill()),
  };
}

function authHeadersOf(sandbox: Sandbox, password: string): Record<string, string> {
  return { ...sandbox.requestHeaders?.(), Authorization: `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}` };
}

/**
 * An empty model catalog when the config describes every model it uses. opencode's
 * bundled catalog (every provider and model of models.dev) costs it about 3.5 CPU-seconds
 * to load over a job's first two prompts, against 1.5 without it (opencode 1.18, this
 * machine: first model request 1.9 s after the first prompt instead of 0.6 s). The file is
 * in the sandbox's HOME, so the agent could rewrite it; it would learn nothing from that it
 * cannot already read in its own environment (the provider's key is there).
 */
async function modelCatalogEnv(sandbox: Sandbox, config: Config): Promise<Record<string, string>> {
  if (!describesAllItsModels(config)) return {};
  const catalog = posix.join(sandbox.home, "model-catalog.json");
  await sandbox.writeFile(catalog, "{}\n");
  return { OPENCODE_MODELS_PATH: catalog };
}

/**
 * Have opencode load now what it would load at the first prompt: its providers (the model
 * catalog and the AI SDK packages), agents and tools. A job starts its server while it
 * prepares the workspace, so this is paid during the clone and install rather than
 * before the first model request (measured: about 60% of the first prompt's start-up,
 * 1.2–5 s on a busy 2-core machine). Nothing here calls a model. A failure, or a load that
 * takes longer than `WARM_UP_MS`, is left for the first prompt to report, under its deadline.
 */
async function warmUp(client: OpencodeClient): Promise<void> {
  const options = { signal: AbortSignal.timeout(WARM_UP_MS) };
  await Promise.allSettled([client.config.providers(undefined, options), client.app.agents(undefined, options), client.tool.ids(undefined, options)]);
}

/** Where a boot prompt goes: port 0, where nothing can listen, so no request is ever answered or seen. */
const BOOT_PROVIDER_ID = "running-agent-boot";
const bootProvider = {
  [BOOT_PROVIDER_ID]: {
    npm: "@ai-sdk/openai-compatible",
    name: "Nowhere (a warm agent's boot prompt)",
    options: { baseURL: "http://127.0.0.1:0/v1", apiKey: "none" },
    models: { none: { name: "none", tool_call: true, limit: { context: 8_192, output: 1_024 } } },
  },
};
/** Longest a boot may take; the agent is handed over booted or not after it. */
const BOOT_MS = 30_000;

/**
 * Pay the workdir's first-prompt costs now. opencode sets up a directory's services (the
 * project, found by git; its tool registry, shell and file watcher) inside the first prompt
 * about it, before the model request: 0.8–1.0 s of a job's first model request on a quiet
 * machine, more while its dependencies install (opencode 1.18; none of it can be asked
 * for without a prompt). So a throwaway session prompts the explore agent with a model
 * on port 0; opencode boots the directory, fails to connect, and reports a retry, at
 * which the session is aborted. The job's own first prompt, later, reaches its model in
 * about 0.1 s. Nothing was answered, so nothing ran; the workdir is untouched. Best
 * effort: whatever goes wrong leaves the first prompt to pay.
 */
async function bootWorkdir(client: OpencodeClient): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), BOOT_MS);
  const options = { signal: controller.signal, throwOnError: true } as const;
  let sessionId: string | null = null;
  try {
    const session = await client.session.create({ title: "warm-up" }, options);
    sessionId = session.data.id;
    const { stream } = await client.event.subscribe(undefined, { signal: controller.signal });
    let prompted = false;
    for await (const event of stream) {
      if (!prompted) {
        // After the first event (the stream's `server.connected`): none of the session's can be missed.
        prompted = true;
        await client.session.promptAsync({ sessionID: sessionId, agent: "explore", model: { providerID: BOOT_PROVIDER_ID, modelID: "none" }, parts: [{ type: "text", text: "warm up" }] }, options);
      }
      if (isBooted(event, sessionId)) break;
    }
  } catch {
    // Best effort (see above).
  } finally {
    clearTimeout(timer);
    controller.abort();
    if (sessionId !== null) await client.session.abort({ sessionID: sessionId }, { signal: AbortSignal.timeout(5_000) }).catch(() => {});
  }
}

/** The boot session reached its model request (a retry, the connection refused), or ended otherwise. */
function isBooted(event: { type: string; properties?: unknown }, sessionId: string): boolean {
  const properties = (event.properties ?? {}) as { sessionID?: string; status?: { type?: string } };
  if (properties.sessionID !== sessionId) return false;
  return (event.type === "session.status" && properties.status?.type === "retry") || event.type === "session.idle" || event.type === "session.error";
}

async function waitUntilListening(server: SandboxProcess, timeoutMs: number): Promise<void> {
  try {
    await server.waitForOutput(listeningLine, timeoutMs);
  } catch (error) {
    await server.kill();
    const reason = error instanceof Error ? error.message : String(error);
    throw new JobError("agent", `opencode serve did not start: ${reason}\n--- its last output ---\n${tailOf(server.output(), 4_000)}`, {
      retryable: true,
      cause: error,
    });
  }
}

function tailOf(text: string, length: number): string {
  return text.length > length ? `…${text.slice(-length)}` : text;
}
