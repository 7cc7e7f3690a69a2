/**
 * The opencode config a sandbox's server gets (through `OPENCODE_CONFIG_CONTENT`, its
 * highest-precedence source). Pure: plain data in, plain data out.
 *
 * Two rules shape it:
 * - Nothing may wait for a human. Anything opencode would `ask` about (questions, plan
 *   mode switches, doom loops, paths outside the project, `.env` reads) is decided here.
 * - `explore` and `plan` are read-only, on the agents themselves: a global permission is
 *   applied after opencode's built-in agent defaults, so a global `edit: allow` would
 *   make them able to edit (FIELD-NOTES).
 *
 * The operator's `AGENT_OPENCODE_CONFIG` is merged last and may change anything except
 * that read-only lock: after the merge the lock is written again over `explore` and
 * `plan`, their wildcard rules are dropped, and the legacy `mode.explore`/`mode.plan`
 * (which opencode merges over `agent`) are removed. We chose to override silently
 * rather than reject such a config, so that a broad operator setting (say a global
 * `permission: "allow"`) still works for `build`.
 *
 * Why wildcards go (verified against opencode 1.18): opencode's config schema reorders a
 * permission object, its known keys (`read`, `edit`, `bash`…) first, other keys after,
 * and the last matching rule wins. So an agent's `"*": "allow"` lands after our
 * `edit: "deny"` and beats it, whatever order we wrote them in. For the same reason our
 * own rules never use a `"*"` permission key.
 */
import type { Config, ProviderConfig } from "@opencode-ai/sdk/v2";
import { isPlainObject, mergeDeep, type JsonObject } from "./deep-merge.ts";

export interface AgentModels {
  /** `provider/model` ids, one per role. */
  explore: string;
  plan: string;
  build: string;
}

/** An OpenAI-compatible endpoint opencode does not know by name (the tests' scripted model, a self-hosted one). */
export interface CustomProvider {
  id: string;
  name?: string;
  baseURL: string;
  apiKey?: string;
  models: NonNullable<ProviderConfig["models"]>;
}

export interface OpencodeConfigInput {
  models: AgentModels;
  /** The model opencode uses for its own chores (titles, summaries). Defaults to the build model. */
  smallModel?: string;
  /** `AGENT_OPENCODE_CONFIG`, parsed: merged last, except over the read-only lock. */
  extra?: JsonObject;
  provider?: CustomProvider;
  /** Per-step shadow-git snapshots; off by default (much faster, and we diff with git ourselves). */
  snapshot?: boolean;
}

/** Answers to everything opencode would otherwise ask a human, on every agent. */
const unattended = { question: "deny", plan_enter: "deny", plan_exit: "deny", doom_loop: "deny" } as const;

/** The sandbox is the security boundary for `build`, so inside it the agent may do anything. */
const fullAccess = Object.fromEntries([
  ...["read", "edit", "glob", "grep", "list", "bash", "task", "external_directory", "todowrite", "webfetch", "websearch", "lsp", "skill"].map((key) => [key, "allow"]),
  ...Object.entries(unattended),
]);

const editTools = ["edit", "write", "patch", "multiedit", "apply_patch"] as const;

function readOnlyLock(subagents: "explore" | "none"): JsonObject {
  const denied = Object.fromEntries([...editTools, "bash"].map((tool) => [tool, "deny"]));
  return {
    permission: {
      ...denied,
      external_directory: "deny",
      // A subagent runs with its own permissions: `general` could edit, `explore` cannot.
      task: subagents === "explore" ? { "*": "deny", explore: "allow" } : "deny",
      ...unattended,
    },
    tools: Object.fromEntries([...editTools, "bash"].map((tool) => [tool, false])),
  };
}

export function buildOpencodeConfig(input: OpencodeConfigInput): Config {
  const base: JsonObject = {
    $schema: "https://opencode.ai/config.json",
    model: input.models.build,
    small_model: input.smallModel ?? input.models.build,
    autoupdate: false,
    share: "disabled",
    snapshot: input.snapshot ?? false,
    permission: fullAccess,
    agent: {
      build: { model: input.models.build, permission: fullAccess },
      general: { model: input.models.build, permission: fullAccess },
      plan: { model: input.models.plan, ...readOnlyLock("explore") },
      explore: { model: input.models.explore, ...readOnlyLock("none") },
    },
    ...(input.provider ? { provider: { [input.provider.id]: providerEntryOf(input.provider) } } : {}),
  };
  const merged = mergeDeep(base, input.extra ?? {});
  return lockReadOnlyAgents(merged) as Config;
}

function lockReadOnlyAgents(config: JsonObject): JsonObject {
  const locks = { plan: readOnlyLock("explore"), explore: readOnlyLock("none") };
  const agent = isPlainObject(config.agent) ? config.agent : {};
  const locked: JsonObject & { agent: JsonObject } = { ...config, agent: { ...agent } };
  for (const [name, lock] of Object.entries(locks)) {
    const current = isPlainObject(agent[name]) ? agent[name] : {};
    locked.agent[name] = { ...current, permission: withLock(current.permission, lock.permission), tools: withLock(current.tools, lock.tools) };
  }
  if (isPlainObject(config.mode)) {
    const { plan: _plan, explore: _explore, ...otherModes } = config.mode;
    locked.mode = otherModes;
  }
  return locked;
}

/** `lock`'s entries over `current`'s, minus any wildcard rule of `current` (see the top of this file). */
function withLock(current: unknown, lock: unknown): JsonObject {
  const lockEntries = isPlainObject(lock) ? lock : {};
  const kept = Object.entries(isPlainObject(current) ? current : {}).filter(([key]) => !(key in lockEntries) && !/[*?]/.test(key));
  return { ...Object.fromEntries(kept), ...lockEntries };
}

function providerEntryOf(provider: CustomProvider): ProviderConfig {
  return {
    npm: "@ai-sdk/openai-compatible",
    name: provider.name ?? provider.id,
    options: { baseURL: provider.baseURL, ...(provider.apiKey ? { apiKey: provider.apiKey } : {}) },
    models: provider.models,
  };
}

/**
 * Whether every model the config names (the default, the small one, each agent's) is
 * described by the config itself: its provider says which AI SDK package speaks to it
 * (`npm`) and the model has its limits. Then opencode needs nothing from its bundled
 * model catalog, and the server can start without it: loading that catalog costs about
 * 3.5 CPU-seconds over a job's first two prompts (measured with opencode 1.18, see
 * `startOpencodeServer`). A model the config only names, or only tweaks, needs the catalog.
 */
export function describesAllItsModels(config: Config): boolean {
  const agents = isPlainObject(config.agent) ? Object.values(config.agent) : [];
  const named = [config.model, config.small_model, ...agents.map((agent) => (isPlainObject(agent) ? agent.model : undefined))];
  const ids = named.filter((id): id is string => typeof id === "string");
  return ids.length > 0 && ids.every((id) => isDescribed(config, id));
}

function isDescribed(config: Config, id: string): boolean {
  const slash = id.indexOf("/");
  if (slash <= 0) return false;
  const provider = config.provider?.[id.slice(0, slash)];
  const model = provider?.models?.[id.slice(slash + 1)];
  return typeof provider?.npm === "string" && typeof model?.limit?.context === "number" && typeof model.limit.output === "number";
}
