import { Probot, ProbotOctokit } from "probot";
import pino from "pino";
import { testPrivateKey } from "./github-fixtures.ts";

export const WEBHOOK_SECRET = "test-webhook-secret";
export const APP_ID = 123456;

/** Octokit as in production, minus retries and throttling, which would only slow tests (FIELD-NOTES). */
export const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export function createTestProbot(): Probot {
  return new Probot({ appId: APP_ID, privateKey: testPrivateKey(), secret: WEBHOOK_SECRET, Octokit: TestOctokit, log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }) });
}

/** The environment of an app under test or benchmark: credentials, loopback, any free port, quiet logs. */
export function testAppEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: Record<string, string> = {
    APP_ID: String(APP_ID),
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    // A spare opencode per app would load every test that starts one; the tests of warm agents ask for them.
    AGENT_WARM_AGENTS: "0",
    ...overrides,
  };
  return env as NodeJS.ProcessEnv;
}
