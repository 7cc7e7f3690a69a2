import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.ts";

const app = { APP_ID: "12", PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----", WEBHOOK_SECRET: "s3cret-value" };

describe("loadConfig", () => {
  it("applies defaults, treating empty strings as missing", () => {
    const config = loadConfig({ PORT: "", ROLE: "", AGENT_MAX_ITERATIONS: "" });
    expect(config.env).toMatchObject({ PORT: 3000, ROLE: "all", SANDBOX_PROVIDER: "local", AGENT_MAX_ITERATIONS: 3, WORKER_CONCURRENCY: 2 });
    expect(config.app).toBeNull();
    expect(config.githubApiUrl).toBe("https://api.github.com");
  });

  it("reads the app's credentials, unescaping \\n in PRIVATE_KEY", () => {
    const config = loadConfig(app);
    expect(config.app).toEqual({ appId: 12, privateKey: "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", webhookSecret: "s3cret-value" });
  });

  it("points at GitHub Enterprise through GHE_HOST", () => {
    expect(loadConfig({ GHE_HOST: "ghe.example.com", GHE_PROTOCOL: "http" }).githubApiUrl).toBe("http://ghe.example.com/api/v3");
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
});
