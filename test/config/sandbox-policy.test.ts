import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.ts";
import { checkLocalConfinement, checkSandboxPolicy, DEFAULT_EGRESS_ALLOW, egressAllowListOf } from "../../src/config/sandbox-policy.ts";

describe("the sandbox policy checked at start", () => {
  it("refuses the local sandbox in production unless explicitly allowed, and says why", () => {
    expect(() => checkSandboxPolicy(loadConfig({ NODE_ENV: "production" }))).toThrow(ConfigError);
    expect(() => checkSandboxPolicy(loadConfig({ NODE_ENV: "production" }))).toThrow("runs repository code directly on this host");
    expect(() => checkSandboxPolicy(loadConfig({ NODE_ENV: "production", ALLOW_LOCAL_SANDBOX: "true" }))).not.toThrow();
    expect(() => checkSandboxPolicy(loadConfig({}))).not.toThrow();
  });

  it("refuses a local sandbox bubblewrap cannot confine, in one line saying what to do, unless the operator opted out", () => {
    const withoutBwrap = "/nonexistent-bin:/usr/local/nonexistent";
    expect(() => checkLocalConfinement(loadConfig({}), withoutBwrap)).toThrow(ConfigError);
    expect(() => checkLocalConfinement(loadConfig({}), withoutBwrap)).toThrow(/^The local sandbox cannot confine the agent: bubblewrap \(`bwrap`\) is not installed.*ALLOW_UNCONFINED_SANDBOX=true/);
    expect(() => checkLocalConfinement(loadConfig({ ALLOW_UNCONFINED_SANDBOX: "true" }), withoutBwrap)).not.toThrow();
    expect(() => checkLocalConfinement(loadConfig({}))).not.toThrow();
  });

  it("needs an API key for E2B, which is fine in production", () => {
    expect(() => checkSandboxPolicy(loadConfig({ SANDBOX_PROVIDER: "e2b" }))).toThrow("needs E2B_API_KEY");
    expect(() => checkSandboxPolicy(loadConfig({ SANDBOX_PROVIDER: "e2b", E2B_API_KEY: "e2b_key", NODE_ENV: "production" }))).not.toThrow();
  });
});

describe("what an E2B sandbox may reach", () => {
  it("is GitHub and the package registries by default, plus GitHub Enterprise and the model gateway", () => {
    expect(egressAllowListOf(loadConfig({}), null)).toEqual([...DEFAULT_EGRESS_ALLOW]);
    const list = egressAllowListOf(loadConfig({ GHE_HOST: "ghe.example.com" }), "https://agent.example.com:8443/");
    expect(list).toEqual([...DEFAULT_EGRESS_ALLOW, "ghe.example.com", "agent.example.com"]);
  });

  it("is the operator's list when set (trimmed, without duplicates), still with what the job needs", () => {
    const config = loadConfig({ E2B_EGRESS_ALLOW: " github.com, *.googleapis.com ,,github.com" });
    expect(egressAllowListOf(config, "https://agent.example.com")).toEqual(["github.com", "*.googleapis.com", "agent.example.com"]);
  });
});
