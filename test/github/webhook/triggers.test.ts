import nock from "nock";
import pino from "pino";
import type { PgBoss } from "pg-boss";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRoleLookup } from "../../../src/github/authorize-sender.ts";
import { registerTriggers } from "../../../src/github/webhook/triggers.ts";
import { startQueue } from "../../../src/queue/boss.ts";
import { eq } from "drizzle-orm";
import { jobs } from "../../../src/store/jobs.sql.ts";
import { pipelineRuns } from "../../../src/store/pipeline-runs.sql.ts";
import { refusalReplies } from "../../../src/store/refusal-replies.sql.ts";
import { webhookDeliveries } from "../../../src/store/webhook-deliveries.sql.ts";
import { nockAnnounce, nockInstallationToken, nockRole, recordJson } from "../../support/github-api.ts";
import { issueCommentPayload, issueLabeledPayload, testRepo } from "../../support/github-fixtures.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createTestProbot } from "../../support/probot.ts";

const repo = testRepo();
const BASE_SHA = "a".repeat(40);
let database: TestDatabase;
let boss: PgBoss;
const background = new Set<Promise<unknown>>();

async function receive(name: "issue_comment" | "issues", payload: Record<string, unknown>, id: string = crypto.randomUUID()) {
  const probot = createTestProbot();
  await probot.load((app) => registerTriggers(app, { pool: database.pool, db: database.db, boss, lookUpRole: createRoleLookup(), background }));
  // The payload is a real example adjusted per test; Probot's types want the exact event shape.
  await probot.receive({ id, name, payload } as unknown as Parameters<typeof probot.receive>[0]);
  await Promise.all([...background]);
}

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});
beforeEach(async () => {
  nock.disableNetConnect();
  await database.db.delete(webhookDeliveries);
  await database.db.delete(refusalReplies);
  await database.db.delete(jobs);
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("/agent on an issue", () => {
  it("creates one job, reacts with 👀, posts the progress comment and a queued check run", async () => {
    nockInstallationToken();
    nockRole(repo, "octocat", "write");
    const { seen } = nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: BASE_SHA });

    await receive("issue_comment", issueCommentPayload({ body: "/agent add a greet() function\nwith tests" }));

    const rows = await database.db.select().from(jobs);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ task: "add a greet() function\nwith tests", status: "queued", issueNumber: 7, branch: "agent/7-add-a-greeting-function", baseSha: BASE_SHA, commentId: 5001, checkRunId: 6001, requesterLogin: "octocat" });
    expect(seen.checkRun).toMatchObject({ name: "Running Agent", head_sha: BASE_SHA, status: "queued", external_id: rows[0]!.id });
    expect(String(seen.comment?.body)).toContain("queued this task for @octocat");
    const queued = await database.pool.query("select data from pgboss.job where name = 'agent-jobs' and data->>'jobId' = $1", [rows[0]!.id]);
    expect(queued.rows).toHaveLength(1);
  });

  it("starts from the issue's title when the `agent` label is added, with 👀 on the issue (the worker reads the rest)", async () => {
    nockInstallationToken();
    nockRole(repo, "octocat", "maintain");
    nockAnnounce(repo, { issueNumber: 7, labelled: true, baseSha: BASE_SHA });

    await receive("issues", issueLabeledPayload({ label: "agent", issueTitle: "Fix the parser", issueBody: "It crashes on empty input." }));

    const [job] = await database.db.select().from(jobs);
    expect(job).toMatchObject({ trigger: "label", task: "Fix the parser", triggerCommentId: null });
  });

  it("processes a redelivered delivery id once, even concurrently", async () => {
    nockInstallationToken(2);
    nockRole(repo, "octocat", "admin", 2);
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: BASE_SHA });
    const payload = issueCommentPayload({ body: "/agent do it" });

    await Promise.all([receive("issue_comment", payload, "delivery-1"), receive("issue_comment", payload, "delivery-1")]);

    const rows = await database.db.select().from(jobs);
    expect(rows).toHaveLength(1);
    const queued = await database.pool.query("select count(*)::int as n from pgboss.job where name = 'agent-jobs' and data->>'jobId' = $1", [rows[0]!.id]);
    expect(queued.rows[0].n).toBe(1);
    const deliveries = await database.db.select().from(webhookDeliveries);
    expect(deliveries).toMatchObject([{ deliveryId: "delivery-1", outcome: "job_created", jobId: rows[0]!.id, event: "issue_comment", action: "created" }]);
  });
});

/** Replies posted on `issueNumber` (at most `times`; one more is a request nock does not expect). */
function nockRepliesOn(issueNumber: number, times = 1): string[] {
  const bodies: string[] = [];
  nock("https://api.github.com")
    .post(`/repos/${repo.owner}/${repo.name}/issues/${issueNumber}/comments`)
    .times(times)
    .reply(
      201,
      recordJson<{ body: string }>((body) => {
        bodies.push(body.body);
        return { id: 1 };
      }),
    );
  return bodies;
}

describe("who may start the agent", () => {
  it("answers a human without write access once, politely, and starts nothing", async () => {
    nockInstallationToken(2);
    nockRole(repo, "visitor", "triage", 2);
    let reply = "";
    nock("https://api.github.com")
      .post(`/repos/${repo.owner}/${repo.name}/issues/7/comments`, (body: { body: string }) => {
        reply = body.body;
        return true;
      })
      .reply(201, { id: 1 });
    const payload = issueCommentPayload({ body: "/agent do it", sender: { login: "visitor", id: 77 } });

    await receive("issue_comment", payload, "delivery-2");
    await receive("issue_comment", payload, "delivery-2");

    expect(reply).toContain("only people with write access");
    expect(await database.db.select().from(jobs)).toHaveLength(0);
  });

  it("says it once per person and thread, however many /agent comments an outsider writes", async () => {
    // Each delivery goes to a fresh app with an empty role cache, as on several web processes.
    nockInstallationToken(6);
    nockRole(repo, "visitor", "read", 6);
    const onSeven = nockRepliesOn(7);
    const onEight = nockRepliesOn(8);

    for (const commentId of [9101, 9102, 9103]) await receive("issue_comment", issueCommentPayload({ body: "/agent do it", commentId, sender: { login: "visitor", id: 77 } }));
    await Promise.all(
      [9104, 9105].map((commentId) => receive("issue_comment", issueCommentPayload({ body: "/agent do it", commentId, sender: { login: "visitor", id: 77 } }))),
    );
    await receive("issue_comment", issueCommentPayload({ body: "/agent do it", commentId: 9106, issueNumber: 8, sender: { login: "visitor", id: 77 } }));

    expect(onSeven).toEqual([expect.stringContaining("Sorry @visitor")]);
    expect(onEight).toEqual([expect.stringContaining("Sorry @visitor")]);
    expect(await database.db.select().from(jobs)).toHaveLength(0);
  });

  it("tells another outsider on the same thread too", async () => {
    nockInstallationToken(2);
    nockRole(repo, "visitor", "read");
    nockRole(repo, "passer-by", null);
    const replies = nockRepliesOn(7, 2);

    await receive("issue_comment", issueCommentPayload({ body: "/agent do it", commentId: 9101, sender: { login: "visitor", id: 77 } }));
    await receive("issue_comment", issueCommentPayload({ body: "/agent do it", commentId: 9102, sender: { login: "passer-by", id: 78 } }));

    expect(replies).toEqual([expect.stringContaining("Sorry @visitor"), expect.stringContaining("Sorry @passer-by")]);
  });

  it("ignores bots, this app included, without a word", async () => {
    await receive("issue_comment", issueCommentPayload({ body: "/agent do it", sender: { login: "running-agent[bot]", id: 1, type: "Bot" } }));
    expect(await database.db.select().from(jobs)).toHaveLength(0);
  });

  it("ignores comments without a command", async () => {
    await receive("issue_comment", issueCommentPayload({ body: "looks good to me" }));
    expect(await database.db.select().from(jobs)).toHaveLength(0);
  });

  it("answers /agent help with usage", async () => {
    nockInstallationToken();
    nockRole(repo, "octocat", "write");
    let reply = "";
    nock("https://api.github.com")
      .post(`/repos/${repo.owner}/${repo.name}/issues/7/comments`, (body: { body: string }) => {
        reply = body.body;
        return true;
      })
      .reply(201, { id: 1 });
    await receive("issue_comment", issueCommentPayload({ body: "/agent help" }));
    expect(reply).toContain("/agent <task>");
    expect(reply).toContain("/agent run <pipeline>");
    expect(await database.db.select().from(jobs)).toHaveLength(0);
  });
});

describe("/agent run <pipeline>", () => {
  function nockAgentYml(content: string | null) {
    const scope = nock("https://api.github.com").get(`/repos/${repo.owner}/${repo.name}/contents/.github%2Fagent.yml`).query({ ref: repo.defaultBranch });
    if (content === null) return scope.reply(404, { message: "Not Found" });
    return scope.reply(200, { type: "file", encoding: "base64", content: Buffer.from(content).toString("base64") });
  }

  function nockReply(): { body: string } {
    const seen = { body: "" };
    nock("https://api.github.com")
      .post(`/repos/${repo.owner}/${repo.name}/issues/7/comments`, (body: { body: string }) => {
        seen.body = body.body;
        return true;
      })
      .reply(201, { id: 1 });
    return seen;
  }

  it("reports a malformed pipeline file with its lines before anything runs", async () => {
    nockInstallationToken();
    nockRole(repo, "octocat", "write");
    nockAgentYml("pipelines:\n  ci-fix:\n    steps:\n      - { name: a, task: a, depends_on: [b] }\n      - { name: b, task: b, depends_on: [a] }\n");
    const reply = nockReply();

    await receive("issue_comment", issueCommentPayload({ body: "/agent run ci-fix" }));

    expect(reply.body).toMatch(/has problems, so nothing was run:\n\n- line \d+: .*cycle/);
    expect(await database.db.select().from(jobs)).toHaveLength(0);
  });

  it("reports a YAML alias bomb as a malformed file, with the reason, and answers GitHub normally", async () => {
    nockInstallationToken();
    nockRole(repo, "octocat", "write");
    // Billion laughs: nine levels of nine aliases each, 9^9 strings once expanded.
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (const [index, name] of [..."bcdefghi"].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${"abcdefgh"[index]}`).join(", ")}]`);
    nockAgentYml(`${levels.join("\n")}\npipelines:\n  ci-fix:\n    steps:\n      - { name: lint, task: "*i" }\n`);
    const reply = nockReply();

    // A throw here is what Probot turns into a 500, and GitHub into a failed delivery.
    await receive("issue_comment", issueCommentPayload({ body: "/agent run ci-fix" }));

    expect(reply.body).toMatch(/has problems, so nothing was run:\n\n- line 2: the file cannot be read: Excessive alias count/);
    expect(await database.db.select().from(jobs)).toHaveLength(0);
    expect(await database.db.select().from(pipelineRuns)).toHaveLength(0);
  });

  it("says which inputs a valid pipeline needs, then starts the run: its first step queued, the run shown on the thread, once per delivery", async () => {
    nockInstallationToken(4);
    nockRole(repo, "octocat", "write", 4);
    const file = 'pipelines:\n  ci-fix:\n    steps:\n      - { name: lint, task: "Lint {{inputs.target}}" }\n      - { name: fix, task: "Fix it", depends_on: [lint] }\n';
    nockAgentYml(file);
    const missing = nockReply();
    await receive("issue_comment", issueCommentPayload({ body: "/agent run ci-fix" }));
    expect(missing.body).toContain("it needs `target`");

    nockAgentYml(file);
    const path = `/repos/${repo.owner}/${repo.name}`;
    const shown = { checkRun: null as Record<string, unknown> | null, comment: "" };
    nock("https://api.github.com")
      .post(`${path}/issues/comments/9002/reactions`, { content: "eyes" })
      .reply(201, { id: 1 })
      .get(`${path}/git/ref/heads%2Fmain`)
      .reply(200, { object: { sha: BASE_SHA } })
      .post(`${path}/check-runs`, (body: Record<string, unknown>) => Boolean((shown.checkRun = body)))
      .reply(201, { id: 6101 })
      .post(`${path}/issues/7/comments`, (body: { body: string }) => Boolean((shown.comment = body.body)))
      .reply(201, { id: 5101 });
    const delivery = crypto.randomUUID();
    await receive("issue_comment", issueCommentPayload({ body: "/agent run ci-fix target=src", commentId: 9002 }), delivery);

    const [run] = await database.db.select().from(pipelineRuns).where(eq(pipelineRuns.pipelineName, "ci-fix"));
    expect(run).toMatchObject({ status: "running", issueNumber: 7, inputs: { target: "src" }, requesterLogin: "octocat", commentId: 5101, steps: { lint: { state: "running" } } });
    const [step] = await database.db.select().from(jobs);
    expect(step).toMatchObject({ id: run!.steps.lint!.jobId, pipelineRunId: run!.id, pipelineStep: "lint", trigger: "pipeline", status: "queued", branch: run!.branch, checkRunId: 6101, commentId: null });
    expect(step!.task).toMatch(/Lint[\s\S]*src/);
    expect(shown.checkRun).toMatchObject({ name: "agent: ci-fix/lint", head_sha: BASE_SHA, status: "queued" });
    expect(shown.comment).toMatch(/pipeline `ci-fix`[\s\S]*- \[ \] \*\*lint\*\* · 🔄 running[\s\S]*- \[ \] \*\*fix\*\* · ⏳ waiting · after `lint`/);

    // GitHub redelivers the same delivery: nothing more starts.
    nockAgentYml(file);
    await receive("issue_comment", issueCommentPayload({ body: "/agent run ci-fix target=src", commentId: 9002 }), delivery);
    expect(await database.db.select().from(pipelineRuns).where(eq(pipelineRuns.pipelineName, "ci-fix"))).toHaveLength(1);
    expect(await database.db.select().from(jobs)).toHaveLength(1);

    // `/agent cancel` on the thread stops the run: its queued step ends now, the step after it never starts.
    const edits: string[] = [];
    nock("https://api.github.com")
      .post(`${path}/issues/comments/9003/reactions`, { content: "+1" })
      .reply(201, { id: 2 })
      .patch(`${path}/check-runs/6101`, (body: { conclusion?: string }) => body.conclusion === "cancelled")
      .reply(200, { id: 6101 })
      .patch(`${path}/issues/comments/5101`, (body: { body: string }) => Boolean(edits.push(body.body)))
      .times(2)
      .reply(200, { id: 5101 });
    await receive("issue_comment", issueCommentPayload({ body: "/agent cancel", commentId: 9003 }));

    const [cancelled] = await database.db.select().from(pipelineRuns).where(eq(pipelineRuns.id, run!.id));
    expect(cancelled).toMatchObject({ status: "cancelled", cancelRequestedBy: "@octocat", steps: { lint: { state: "cancelled" }, fix: { state: "cancelled" } } });
    expect(await database.db.select().from(jobs)).toEqual([expect.objectContaining({ status: "cancelled" })]);
    expect(edits.at(-1)).toMatch(/⏹️ cancelled[\s\S]*Cancelled by @octocat/);
  });

});
