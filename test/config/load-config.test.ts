import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.ts";

const app = { APP_ID: "12", PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----", WEBHOOK_SECRET: "s3cret-value" };

describe("loadConfig", () => {
  it("applies defaults, treating empty strings as missing", () => {
    const config = loadConfig({ PORT: "", ROLE: "", AGENT_MAX_ITERATIONS: "" });
    expect(config.env).toMatchObject({ PORT: 3000, ROLE: "all", SANDBOX_PROVIDER: "local", AGENT_MAX_ITERATIONS: 3, WORKER_CONCURRENCY: 2, SANDBOX_MEMORY_MB: 0, SANDBOX_CPU_SECONDS: 0 });
    expect(loadConfig({ SANDBOX_MEMORY_MB: "8192", SANDBOX_CPU_SECONDS: "600" }).env).toMatchObject({ SANDBOX_MEMORY_MB: 8192, SANDBOX_CPU_SECONDS: 600 });
    expect(config.app).toBeNull();
    expect(config.githubApiUrl).toBe("https://api.github.com");
  });

  it("reads the app's credentials, unescaping \\n in PRIVATE_KEY", () => {
    const config = loadConfig(app);
    expect(config.app).toEqual({ appId: 12, privateKey: "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", webhookSecret: "s3cret-value" });
  });

  it("sizes each process's Postgres pool with DATABASE_POOL_SIZE, 10 unless set, 2 to 100", () => {
    expect(loadConfig({}).env.DATABASE_POOL_SIZE).toBe(10);
    expect(loadConfig({ DATABASE_POOL_SIZE: "4" }).env.DATABASE_POOL_SIZE).toBe(4);
    for (const bad of ["1", "101", "many"]) expect(() => loadConfig({ DATABASE_POOL_SIZE: bad })).toThrow(/DATABASE_POOL_SIZE/);
  });

  it("points at GitHub Enterprise through GHE_HOST", () => {
    expect(loadConfig({ GHE_HOST: "ghe.example.com", GHE_PROTOCOL: "http" }).githubApiUrl).toBe("http://ghe.example.com/api/v3");
  });

  it("sets up signing in with GitHub from the app's OAuth client, with a session secret of its own or derived from the key", () => {
    expect(loadConfig(app).signIn).toBeNull();
    const derived = loadConfig({ ...app, GITHUB_CLIENT_ID: "Iv1.abc", GITHUB_CLIENT_SECRET: "client-secret", PUBLIC_URL: "https://agent.example.com" }).signIn!;
    expect(derived).toMatchObject({ clientId: "Iv1.abc", clientSecret: "client-secret", webUrl: "https://github.com", publicUrl: "https://agent.example.com" });
    expect(derived.sessionSecret).toContain("abc");
    const own = loadConfig({ ...app, GITHUB_CLIENT_ID: "Iv1.abc", GITHUB_CLIENT_SECRET: "client-secret", SESSION_SECRET: "s".repeat(32), GHE_HOST: "ghe.example.com" }).signIn!;
    expect(own).toMatchObject({ sessionSecret: "s".repeat(32), webUrl: "https://ghe.example.com" });
    expect(() => loadConfig({ ...app, GITHUB_CLIENT_ID: "Iv1.abc" })).toThrow(/GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET go together/);
    expect(() => loadConfig({ GITHUB_CLIENT_ID: "Iv1.abc", GITHUB_CLIENT_SECRET: "x" })).toThrow(/needs SESSION_SECRET/);
    expect(() => loadConfig({ ...app, GITHUB_CLIENT_ID: "a", GITHUB_CLIENT_SECRET: "b", SESSION_SECRET: "short" })).toThrow(/SESSION_SECRET/);
  });

  it("names every bad variable without printing its value", () => {
    const attempt = () => loadConfig({ ROLE: "boss", PORT: "eighty", DATABASE_URL: "not a url with secret-password", AGENT_MODEL_BUILD: "gpt" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      for (const name of ["ROLE", "PORT", "DATABASE_URL", "AGENT_MODEL_BUILD"]) expect(message).toContain(name);
      expect(message).not.toContain("secret-password");
    }
  });

  it("requires the webhook secret and a key with APP_ID", () => {
    expect(() => loadConfig({ APP_ID: "12", PRIVATE_KEY: "x" })).toThrow(/WEBHOOK_SECRET/);
    expect(() => loadConfig({ APP_ID: "12", WEBHOOK_SECRET: "s" })).toThrow(/PRIVATE_KEY/);
    expect(() => loadConfig({ APP_ID: "12", WEBHOOK_SECRET: "s", PRIVATE_KEY_PATH: "/nonexistent/key.pem" })).toThrow(/PRIVATE_KEY_PATH/);
  });

  it("rejects AGENT_OPENCODE_CONFIG that is not a JSON object", () => {
    expect(() => loadConfig({ AGENT_OPENCODE_CONFIG: "{nope" })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ AGENT_OPENCODE_CONFIG: "[1]" })).toThrow(/JSON object/);
    expect(loadConfig({ AGENT_OPENCODE_CONFIG: '{"provider":{}}' }).opencodeExtraConfig).toEqual({ provider: {} });
  });

  it("reads the model gateway's providers, with a default version per kind", () => {
    const providers = {
      google: { baseUrl: "https://generativelanguage.googleapis.com", apiKey: "AIza-key", kind: "google", models: { "gemini-2.5-pro": { pricing: { inputPerMillion: 2.5, outputPerMillion: 15 }, maxOutputTokens: 65_536 } } },
      mine: { baseUrl: "https://llm.example.com", apiKey: "k", kind: "openai", version: "v2", pricing: { inputPerMillion: 1, outputPerMillion: 2 }, models: { "m-small": {}, "m-large": { pricing: { inputPerMillion: 10, outputPerMillion: 40 } } } },
    };
    const config = loadConfig({ AGENT_GATEWAY_PROVIDERS: JSON.stringify(providers) });
    expect(config.gatewayProviders).toEqual(providers);
    expect(loadConfig({}).gatewayProviders).toBeNull();
  });

  it("rejects a malformed AGENT_GATEWAY_PROVIDERS without printing its keys, and a worker with no gateway URL", () => {
    expect(() => loadConfig({ AGENT_GATEWAY_PROVIDERS: "{" })).toThrow("AGENT_GATEWAY_PROVIDERS: not valid JSON.");
    const bad = JSON.stringify({ google: { baseUrl: "not a url", apiKey: "AIza-secret-value", kind: "gemini" } });
    const error = (() => {
      try {
        loadConfig({ AGENT_GATEWAY_PROVIDERS: bad });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("AGENT_GATEWAY_PROVIDERS.google.baseUrl");
    expect(error.message).toContain("AGENT_GATEWAY_PROVIDERS.google.kind");
    expect(error.message).not.toContain("AIza-secret-value");
    const good = JSON.stringify({ google: { baseUrl: "https://g.example.com", apiKey: "k", kind: "google", models: { "gemini-2.5-flash": {} } } });
    expect(() => loadConfig({ AGENT_GATEWAY_PROVIDERS: good, ROLE: "worker" })).toThrow("AGENT_GATEWAY_URL is required");
    expect(loadConfig({ AGENT_GATEWAY_PROVIDERS: good, ROLE: "worker", AGENT_GATEWAY_URL: "https://agent.example.com" }).gatewayProviders).not.toBeNull();
  });

  it("requires each gateway provider to list the models jobs may use, so that none is used at another's price", () => {
    const provider = { baseUrl: "https://api.openai.com", apiKey: "sk-secret-value", kind: "openai", pricing: { inputPerMillion: 1.25, outputPerMillion: 10 } };
    for (const models of [undefined, {}, { "gpt 5": {} }, { "gpt-5": { pricing: { inputPerMillion: -1, outputPerMillion: 10 } } }, { "gpt-5": { maxOutputTokens: 0 } }]) {
      const attempt = () => loadConfig({ AGENT_GATEWAY_PROVIDERS: JSON.stringify({ openai: { ...provider, models } }) });
      expect(attempt, JSON.stringify(models)).toThrow(ConfigError);
      expect(attempt, JSON.stringify(models)).toThrow("AGENT_GATEWAY_PROVIDERS.openai.models");
      expect(attempt).not.toThrow("sk-secret-value");
    }
    expect(() => loadConfig({ AGENT_GATEWAY_PROVIDERS: JSON.stringify({ openai: provider }) })).toThrow('list the models a job may use, e.g. "models": {"gpt-5": {}}');
  });
});
