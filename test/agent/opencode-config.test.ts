import type { AgentConfig, Config } from "@opencode-ai/sdk/v2";
import { describe, expect, it } from "vitest";
import { buildOpencodeConfig, describesAllItsModels, type OpencodeConfigInput } from "../../src/agent/opencode-config.ts";

const models = { explore: "google/gemini-2.5-pro", plan: "google/gemini-2.5-pro", build: "google/gemini-3-flash-preview" };

function build(extra?: Record<string, unknown>, input: Partial<OpencodeConfigInput> = {}): Config {
  return buildOpencodeConfig({ models, ...input, ...(extra ? { extra } : {}) });
}

function agentOf(config: Config, name: string): AgentConfig {
  const agent = config.agent?.[name];
  if (!agent) throw new Error(`no agent ${name}`);
  return agent;
}

/**
 * The action opencode would take. Its config schema puts known permission keys before
 * the others (`*` included), then the last matching rule wins; mimicked here.
 */
const knownKeys = ["read", "edit", "glob", "grep", "list", "bash", "task", "external_directory", "todowrite", "question", "webfetch", "websearch", "lsp", "doom_loop", "skill"];
function actionFor(agent: AgentConfig, permission: string): string | undefined {
  const rules = agent.permission;
  if (typeof rules === "string") return rules;
  const entries = Object.entries(rules ?? {});
  const ordered = [...entries.filter(([key]) => knownKeys.includes(key)), ...entries.filter(([key]) => !knownKeys.includes(key))];
  const last = ordered.filter(([key]) => key === permission || key === "*").at(-1)?.[1];
  return typeof last === "string" ? last : last?.["*"];
}

describe("buildOpencodeConfig", () => {
  it("gives each role its model and sets the unattended defaults", () => {
    const config = build();
    expect(config).toMatchObject({ model: models.build, small_model: models.build, autoupdate: false, share: "disabled", snapshot: false });
    expect(agentOf(config, "explore").model).toBe(models.explore);
    expect(agentOf(config, "plan").model).toBe(models.plan);
    expect(agentOf(config, "build").model).toBe(models.build);
    expect(build(undefined, { snapshot: true, smallModel: "google/flash" })).toMatchObject({ snapshot: true, small_model: "google/flash" });
  });

  it("lets build edit and run commands, and never asks a human on any agent", () => {
    const config = build();
    const buildAgent = agentOf(config, "build");
    for (const permission of ["edit", "bash", "read", "external_directory"]) expect(actionFor(buildAgent, permission)).toBe("allow");
    for (const name of ["build", "general", "plan", "explore"]) {
      for (const permission of ["question", "plan_enter", "plan_exit", "doom_loop"]) expect(actionFor(agentOf(config, name), permission)).toBe("deny");
    }
    expect(JSON.stringify(config)).not.toContain('"ask"');
  });

  it("makes explore and plan read-only, with plan delegating only to explore", () => {
    const config = build();
    for (const name of ["explore", "plan"]) {
      const agent = agentOf(config, name);
      for (const permission of ["edit", "write", "patch", "apply_patch", "bash"]) expect(actionFor(agent, permission)).toBe("deny");
      expect(agent.tools).toMatchObject({ write: false, edit: false, bash: false });
    }
    expect(agentOf(config, "plan").permission).toMatchObject({ task: { "*": "deny", explore: "allow" } });
    expect(agentOf(config, "explore").permission).toMatchObject({ task: "deny" });
  });

  it("keeps explore and plan read-only whatever the extra config grants", () => {
    const config = build({
      permission: "allow",
      agent: {
        plan: { permission: { edit: "allow", "*": "allow", "e*": "allow", bash: { "*": "allow" }, webfetch: "deny" }, tools: { write: true, "*": true }, temperature: 0.2 },
        explore: { permission: "allow" },
      },
      mode: { plan: { permission: { edit: "allow" } }, review: { prompt: "Review." } },
    });
    for (const name of ["explore", "plan"]) {
      const agent = agentOf(config, name);
      for (const permission of ["edit", "write", "bash"]) expect(actionFor(agent, permission)).toBe("deny");
      expect(agent.tools).toMatchObject({ write: false });
      expect(Object.keys(agent.permission ?? {}).filter((key) => /[*?]/.test(key))).toEqual([]);
    }
    // What the extra config set that is not about editing survives.
    expect(agentOf(config, "plan").temperature).toBe(0.2);
    expect(actionFor(agentOf(config, "plan"), "webfetch")).toBe("deny");
    expect(config.mode).toEqual({ review: { prompt: "Review." } });
    expect(config.permission).toBe("allow");
  });

  it("merges the extra config deeply, last", () => {
    const config = build({
      snapshot: true,
      provider: { google: { options: { timeout: 600_000 } } },
      agent: { build: { permission: { bash: { "git push*": "deny" } }, steps: 40 } },
      instructions: ["CONTRIBUTING.md"],
    });
    expect(config.snapshot).toBe(true);
    expect(config.instructions).toEqual(["CONTRIBUTING.md"]);
    expect(config.provider?.google?.options?.timeout).toBe(600_000);
    const buildAgent = agentOf(config, "build");
    expect(buildAgent.steps).toBe(40);
    expect(buildAgent.model).toBe(models.build);
    expect(buildAgent.permission).toMatchObject({ edit: "allow", question: "deny", bash: { "git push*": "deny" } });
  });

  it("defines a custom OpenAI-compatible provider", () => {
    const models_ = { m: { tool_call: true, limit: { context: 1000, output: 100 } } };
    const config = build(undefined, { provider: { id: "local", baseURL: "http://127.0.0.1:9/v1", apiKey: "k", models: models_ } });
    expect(config.provider?.local).toEqual({
      npm: "@ai-sdk/openai-compatible",
      name: "local",
      options: { baseURL: "http://127.0.0.1:9/v1", apiKey: "k" },
      models: models_,
    });
  });

  it("is not fooled by a __proto__ key in the extra config", () => {
    const extra = JSON.parse('{"__proto__": {"polluted": true}, "agent": {"__proto__": {"x": 1}}}') as Record<string, unknown>;
    const config = build(extra);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("describesAllItsModels", () => {
  const local = { id: "local", baseURL: "http://127.0.0.1:9/v1", models: { m: { limit: { context: 1000, output: 100 } } } };
  const localModels = { explore: "local/m", plan: "local/m", build: "local/m" };

  it("holds when every role's model is defined by the config, with its package and limits", () => {
    expect(describesAllItsModels(buildOpencodeConfig({ models: localModels, provider: local }))).toBe(true);
  });

  it("needs the catalog for a model only named: the default, the small one, or one agent's", () => {
    expect(describesAllItsModels(build())).toBe(false);
    expect(describesAllItsModels(buildOpencodeConfig({ models: { ...localModels, plan: "google/gemini-2.5-pro" }, provider: local }))).toBe(false);
    expect(describesAllItsModels(buildOpencodeConfig({ models: localModels, smallModel: "anthropic/claude-haiku-4-5", provider: local }))).toBe(false);
    const extraAgent = { agent: { review: { model: "openai/gpt-5" } } };
    expect(describesAllItsModels(buildOpencodeConfig({ models: localModels, provider: local, extra: extraAgent }))).toBe(false);
  });

  it("needs the catalog for a provider or model the config only tweaks", () => {
    const tweaked = { provider: { anthropic: { options: { baseURL: "https://gateway.example/v1" }, models: { "claude-sonnet-4-5": { limit: { context: 1, output: 1 } } } } } };
    const anthropic = { explore: "anthropic/claude-sonnet-4-5", plan: "anthropic/claude-sonnet-4-5", build: "anthropic/claude-sonnet-4-5" };
    expect(describesAllItsModels(buildOpencodeConfig({ models: anthropic, extra: tweaked }))).toBe(false);
    const noLimits = { ...local, models: { m: { tool_call: true } } };
    expect(describesAllItsModels(buildOpencodeConfig({ models: localModels, provider: noLimits }))).toBe(false);
    expect(describesAllItsModels(buildOpencodeConfig({ models: { ...localModels, build: "local/other" }, provider: local }))).toBe(false);
  });

  it("is false for a model id without a provider", () => {
    expect(describesAllItsModels(buildOpencodeConfig({ models: { explore: "m", plan: "m", build: "m" }, provider: local }))).toBe(false);
  });
});
