import { describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { gatewayTokens } from "../../src/store/gateway-tokens.sql.ts";
import { startModelServer, type ModelRequest, type Turn } from "../fakes/model-server.ts";
import { startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { INSTALLATION_TOKEN, nockAnnounce, nockInstallationToken, nockRole, nockWorkerCalls, REPO_TOKEN } from "../support/github-api.ts";
import { issueCommentPayload, postWebhook, testPrivateKey, testRepo } from "../support/github-fixtures.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const e2e = useEndToEnd();

const REAL_MODEL_KEY = "sk-the-real-model-key-0123456789abcdef";
/** What a hostile repository's code would try: the environment, git's config, and a search for token shapes. */
const SNOOP = [
  "env",
  "git config -l",
  "cat .git/config",
  `grep -rIE "ghs_|ghp_|sk-|BEGIN RSA|postgres(ql)?://|test-webhook" "$HOME" . /proc/self/environ 2>/dev/null | head -100`,
  "echo SNOOP-DONE",
].join("; ");
const defaults = agentScript({ build: [] }) as (request: ModelRequest) => Turn;

describe("credentials stay out of the agent's reach", () => {
  it("with the model gateway: env, git config and a search of the workspace and home show the agent no credential", async () => {
    e2e.model = await startModelServer((request: ModelRequest): Turn => {
      if (request.agent !== "build" || request.tools.length === 0) return defaults(request);
      if (request.turnIndex === 0) return { toolCalls: [{ name: "bash", arguments: { command: SNOOP, description: "look for secrets" } }] };
      if (request.turnIndex === 1) return { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] };
      return { text: "Added greet()." };
    });
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    const gatewayProviders = { scripted: { baseUrl: new URL(e2e.model.baseUrl).origin, apiKey: REAL_MODEL_KEY, kind: "openai", pricing: { inputPerMillion: 1, outputPerMillion: 2 }, models: { explore: {}, plan: {}, build: {} } } };
    // A warm agent: its opencode started before the job, with a token of no job yet in its config, which the job binds to itself.
    e2e.harness = await startAppHarness({ ...scriptedModelEnv(e2e.model), AGENT_GATEWAY_PROVIDERS: JSON.stringify(gatewayProviders), AGENT_WARM_AGENTS: "1" });
    const spare = await e2e.harness.waitForWarmAgent();
    nockInstallationToken(3);
    nockRole(repo, "octocat", "write");
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: true });

    await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet(name) in greet.js", repo }) });
    // Parked just after it ends: wait for that too, to see which sandbox it was.
    const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null && (candidate.status !== "completed" || candidate.parkedSandboxId !== null));
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed", { what: "the check run to complete" });

    expect(job).toMatchObject({ status: "completed", parkedSandboxId: spare });
    // Everything the model was sent, tool outputs included: the snooping ran, and found nothing.
    const sent = JSON.stringify(e2e.model.requests);
    expect(sent).toContain("SNOOP-DONE");
    expect(sent).toContain("[core]");
    for (const secret of [REAL_MODEL_KEY, "scripted-model-key-not-a-secret", REPO_TOKEN, INSTALLATION_TOKEN, WEBHOOK_SECRET, e2e.harness.database.url, testPrivateKey().split("\n")[1]!]) {
      expect(sent).not.toContain(secret);
    }
    // The model was reached through the gateway, which charged the job's token (the warm agent's, bound to the job) and revoked it at the end.
    const tokens = await e2e.harness.database.db.select().from(gatewayTokens).where(eq(gatewayTokens.jobId, job.id));
    expect(tokens).toHaveLength(1);
    const [token] = tokens;
    expect(token!.requests).toBeGreaterThan(0);
    expect(token!.spentMicroUsd).toBeGreaterThan(0);
    expect(token!.revokedAt).toBeInstanceOf(Date);
  });

  it("ends the job on its budget when the gateway refuses its token, even if the agent's own cost figures say otherwise", async () => {
    // opencode is told the model is free; the gateway knows it costs $1,000 per million tokens.
    e2e.model = await startModelServer((request: ModelRequest): Turn => {
      if (request.agent === "explore" && request.turnIndex === 0) return { toolCalls: [{ name: "read", arguments: { filePath: "README.md" } }], usage: { prompt_tokens: 2_000, completion_tokens: 10 } };
      return defaults(request);
    });
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    const gatewayProviders = { scripted: { baseUrl: new URL(e2e.model.baseUrl).origin, apiKey: REAL_MODEL_KEY, kind: "openai", pricing: { inputPerMillion: 1_000, outputPerMillion: 1_000 }, models: { explore: {}, plan: {}, build: {} } } };
    e2e.harness = await startAppHarness({
      ...scriptedModelEnv(e2e.model, { costPerMillion: { input: 0, output: 0 } }),
      AGENT_GATEWAY_PROVIDERS: JSON.stringify(gatewayProviders),
      AGENT_MAX_COST_USD: "1",
    });
    nockInstallationToken(3);
    nockRole(repo, "octocat", "write");
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: false });

    await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet(name) in greet.js", repo }) });
    const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed", { what: "the check run to complete" });

    expect(job).toMatchObject({ status: "failed", failureKind: "budget", prUrl: null });
    const [token] = await e2e.harness.database.db.select().from(gatewayTokens).where(eq(gatewayTokens.jobId, job.id));
    // The first request's worst case is past the budget: refused before it reaches the model, nothing held.
    expect(token).toMatchObject({ reservedMicroUsd: 0 });
    expect(token!.spentMicroUsd).toBeLessThanOrEqual(token!.budgetMicroUsd);
  });
});
