/**
 * What became of the agent's pull requests: GitHub's `pull_request` events update the rows
 * the jobs wrote when they opened them, and `/api/stats` and `/metrics` report the merge
 * rate, time to merge and cost per merged pull request.
 */
import pino from "pino";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRoleLookup } from "../../src/github/authorize-sender.ts";
import { registerTriggers } from "../../src/github/webhook/triggers.ts";
import { startQueue } from "../../src/queue/boss.ts";
import { recordAgentPullRequest, recordCiFailure } from "../../src/store/pull-request-queries.ts";
import { agentPullRequests } from "../../src/store/pull-requests.sql.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { pullRequestEventPayload, testRepo } from "../support/github-fixtures.ts";
import { insertJob } from "../support/job-fixture.ts";
import { createTestProbot } from "../support/probot.ts";

const repo = testRepo();
const other = testRepo({ id: 777, owner: "other-org", name: "tools" });
const requested = new Date("2026-11-01T10:00:00Z");
let database: TestDatabase;
let boss: PgBoss;
let api: ApiServer;

async function receive(payload: Record<string, unknown>) {
  const probot = createTestProbot();
  await probot.load((app) => registerTriggers(app, { pool: database.pool, db: database.db, boss, lookUpRole: createRoleLookup(), background: new Set() }));
  await probot.receive({ id: crypto.randomUUID(), name: "pull_request", payload } as unknown as Parameters<typeof probot.receive>[0]);
}

/** A job that opened pull request `number` of `where`, as the GitHub host records it. */
async function openedBy(where: typeof repo, number: number, job: Partial<Job>): Promise<Job> {
  const row = await insertJob(database.db, { repoId: where.id, repoOwner: where.owner, repoName: where.name, status: "completed", prNumber: number, createdAt: requested, ...job });
  await recordAgentPullRequest(database.db, {
    installationId: 4242,
    repoId: where.id,
    repoOwner: where.owner,
    repoName: where.name,
    number,
    url: `https://github.com/${where.owner}/${where.name}/pull/${number}`,
    jobId: row.id,
    pipelineRunId: null,
    requestedAt: requested,
    agentHeadSha: null,
  });
  return row;
}

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
  api = await startApiServer(database);
});
afterAll(async () => {
  await api.close();
  await boss.stop({ graceful: false });
  await database.drop();
});
beforeEach(async () => {
  await database.db.delete(agentPullRequests);
  await database.db.delete(jobs);
});

describe("the agent's pull requests and what became of them", () => {
  it("counts merges, closes, follow-ups and people's pushes from GitHub's events, and reports them per repository", async () => {
    await openedBy(repo, 12, { totalCost: 0.4 });
    // A follow-up on #12 costs its share of the merged pull request too.
    await insertJob(database.db, { status: "completed", prNumber: 12, totalCost: 0.1, followUp: { pullRequest: { number: 12, title: "t", headRef: "agent/7-x", url: "u", body: null }, triggeredAt: requested.toISOString(), reviewTargets: [] } });
    await openedBy(repo, 13, { totalCost: 1 });
    await openedBy(other, 5, { totalCost: 0.25 });

    await receive(pullRequestEventPayload({ action: "closed", number: 12, merged: true, at: "2026-11-01T12:00:00Z", sender: { login: "alice", id: 1 } }));
    await receive(pullRequestEventPayload({ action: "closed", number: 13, at: "2026-11-02T10:00:00Z", sender: { login: "bob", id: 2 } }));
    // A person pushes to #5 (the event redelivered), and the app pushes too: one push by a person.
    const push = pullRequestEventPayload({ action: "synchronize", number: 5, repo: other, after: "b".repeat(40), sender: { login: "carol", id: 3 } });
    await receive(push);
    await receive(push);
    await receive(pullRequestEventPayload({ action: "synchronize", number: 5, repo: other, after: "c".repeat(40), sender: { login: "running-agent[bot]", id: 4, type: "Bot" } }));
    // Someone else's pull request is not the agent's business.
    await receive(pullRequestEventPayload({ action: "closed", number: 99, merged: true }));

    const rows = await database.db.select().from(agentPullRequests);
    expect(rows.map((row) => [row.number, row.state, row.closedBy, row.humanPushes]).sort()).toEqual([
      [12, "merged", "alice", 0],
      [13, "closed", "bob", 0],
      [5, "open", null, 1],
    ]);

    const response = await api.call("GET", "/api/stats?since=2026-10-01");
    expect(response.status).toBe(200);
    const stats = (await response.json()) as Record<string, unknown>;
    expect(stats).toMatchObject({
      since: "2026-10-01T00:00:00.000Z",
      repository: null,
      pull_requests: {
        opened: 3,
        merged: 1,
        closed_unmerged: 1,
        open: 1,
        merge_rate: 0.5,
        time_to_merge_seconds: { p50: 7200, p90: 7200 },
        cost_per_merged_pull_request: 0.5,
        total_cost: 1.75,
        follow_ups: 1,
        human_pushes: 1,
      },
    });
    expect(stats.repositories).toEqual([
      { repository: "octo-org/hello-world", pull_requests: expect.objectContaining({ opened: 2, merged: 1, closed_unmerged: 1, merge_rate: 0.5 }) },
      { repository: "other-org/tools", pull_requests: expect.objectContaining({ opened: 1, open: 1, merge_rate: null, cost_per_merged_pull_request: null, human_pushes: 1 }) },
    ]);

    const one = (await (await api.call("GET", "/api/stats?since=2026-10-01&repository=Other-Org/Tools")).json()) as { pull_requests: Record<string, unknown>; repositories: unknown[] };
    expect(one.pull_requests).toMatchObject({ opened: 1, merged: 0 });
    expect(one.repositories).toHaveLength(1);

    const metrics = (await (await api.call("GET", "/metrics")).text()).split("\n");
    expect(metrics).toEqual(
      expect.arrayContaining([
        'running_agent_pull_requests{state="open"} 1',
        'running_agent_pull_requests{state="merged"} 1',
        'running_agent_pull_requests{state="closed"} 1',
        "running_agent_pull_request_merge_rate 0.5",
        'running_agent_time_to_merge_seconds{quantile="0.5"} 7200',
        "running_agent_time_to_merge_seconds_count 1",
      ]),
    );
  });

  it("counts CI rounds, and as fixed those whose pushed commit CI has not failed on since", async () => {
    await openedBy(repo, 12, {});
    await openedBy(repo, 13, {});
    const [failed, first, second, other13] = ["a", "b", "c", "d"].map((char) => char.repeat(40)) as [string, string, string, string];
    const round = (headSha: string, job: Partial<Job>, number = 12) =>
      insertJob(database.db, {
        repoId: repo.id,
        repoOwner: repo.owner,
        repoName: repo.name,
        issueNumber: number,
        isPullRequest: true,
        trigger: "ci",
        followUp: { pullRequest: { number, title: "t", headRef: "agent/7-x", url: "u", body: null }, triggeredAt: requested.toISOString(), reviewTargets: [], ci: { headSha, round: 1, maxRounds: 3 } },
        ...job,
      });
    // Round 1 fixed the agent's first commit with `first`; CI failed on that too, which started round 2; round 2 pushed `second`.
    await round(failed, { status: "completed", checkpoint: { pushed: { sha: first } } });
    await recordCiFailure(database.db, { repoId: repo.id, number: 12, headSha: first });
    await round(first, { status: "completed", checkpoint: { pushed: { sha: second } } });
    // On #13, a round that failed pushed nothing.
    await round(other13, { status: "failed" }, 13);
    const figures = async () => ((await (await api.call("GET", "/api/stats?since=2026-10-01")).json()) as { pull_requests: Record<string, unknown> }).pull_requests;

    expect(await figures()).toMatchObject({ ci_rounds: 3, ci_rounds_fixed: 1, ci_fix_rate: 0.3333 });
    expect((await (await api.call("GET", "/metrics")).text()).split("\n")).toEqual(expect.arrayContaining(['running_agent_ci_rounds{outcome="all"} 3', 'running_agent_ci_rounds{outcome="fixed"} 1']));

    // CI fails on round 2's commit as well (the cap reached: no round starts, the failure still counts).
    await recordCiFailure(database.db, { repoId: repo.id, number: 12, headSha: second });
    expect(await figures()).toMatchObject({ ci_rounds: 3, ci_rounds_fixed: 0, ci_fix_rate: 0 });
  });

  it("takes a reopened pull request back to open", async () => {
    await openedBy(repo, 12, {});
    await receive(pullRequestEventPayload({ action: "closed", number: 12 }));
    await receive(pullRequestEventPayload({ action: "reopened", number: 12 }));
    const [row] = await database.db.select().from(agentPullRequests);
    expect(row).toMatchObject({ state: "open", closedAt: null, closedBy: null });
  });

  it("reports nothing yet as zeros and nulls, and names the rule a bad query broke", async () => {
    const empty = (await (await api.call("GET", "/api/stats")).json()) as { pull_requests: Record<string, unknown>; repositories: unknown[] };
    expect(empty.pull_requests).toMatchObject({ opened: 0, merged: 0, merge_rate: null, time_to_merge_seconds: { p50: null, p90: null }, cost_per_merged_pull_request: null, ci_rounds: 0, ci_fix_rate: null });
    expect(empty.repositories).toEqual([]);
    expect((await (await api.call("GET", "/metrics")).text()).split("\n")).toContain("running_agent_pull_request_merge_rate NaN");

    const badSince = await api.call("GET", "/api/stats?since=yesterday");
    expect(badSince.status).toBe(400);
    expect(((await badSince.json()) as { error: string }).error).toMatch(/^since must be an ISO 8601 date/);
    const badRepository = await api.call("GET", "/api/stats?repository=not-a-repository");
    expect(badRepository.status).toBe(400);
    expect(((await badRepository.json()) as { error: string }).error).toBe("repository must be owner/name");
  });
});
