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
