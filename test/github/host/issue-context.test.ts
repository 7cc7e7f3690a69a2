import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRoleLookup } from "../../../src/github/authorize-sender.ts";
import { gatherIssueContext, type IssueWindow } from "../../../src/github/host/issue-context.ts";
import { JobError } from "../../../src/job-error.ts";
import { GITHUB_API, issueJson, nockRole } from "../../support/github-api.ts";
import { testRepo } from "../../support/github-fixtures.ts";
import { TestOctokit } from "../../support/probot.ts";

const repo = testRepo();
const path = `/repos/${repo.owner}/${repo.name}`;
const requestedAt = new Date("2026-03-01T12:00:00Z");
const at = (time: string) => `2026-03-01T${time}Z`;

function comment(id: number, login: string, created: string, options: { updated?: string; type?: string; body?: string } = {}) {
  return { id, user: { login, type: options.type ?? "User" }, body: options.body ?? `comment ${id}`, created_at: at(created), updated_at: at(options.updated ?? created) };
}

function window(overrides: Partial<IssueWindow> = {}): IssueWindow {
  return { owner: repo.owner, repo: repo.name, issueNumber: 7, triggerCommentId: 9001, requestedAt, task: "fix it", ...overrides };
}

describe("gatherIssueContext", () => {
  const octokit = new TestOctokit({ auth: "token test" });
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  it("reads the description, the people's comments before the request, and what they point to", async () => {
    nock(GITHUB_API)
      .get(`${path}/issues/7`)
      .reply(200, issueJson(repo, { number: 7, author: "ada", body: "Crashes; see #3." }))
      .get(`${path}/issues/7/comments`)
      .query({ per_page: 100 })
      .reply(200, [
        comment(1, "mallory", "10:00", { body: "It is #4 really." }),
        comment(2, "running-agent[bot]", "10:01", { type: "Bot" }),
        comment(3, "ada", "10:30", { updated: "12:30" }), // edited after the request
        comment(9001, "ada", "11:59", { body: "/agent fix it" }), // the request itself
        comment(4, "ada", "11:00"),
        comment(5, "ada", "12:10"), // after the request
      ])
      .get(`${path}/issues/3`)
      .reply(200, issueJson(repo, { number: 3, title: "Parser rewrite", author: "ada", body: "Rewrote it.", pullRequest: true }))
      .get(`${path}/issues/4`)
      .reply(404, { message: "Not Found" });
    nockRole(repo, "ada", "write");
    nockRole(repo, "mallory", null);

    const gathered = await gatherIssueContext(octokit, window(), createRoleLookup());

    expect(gathered?.webOrigin).toBe("https://github.com");
    expect(gathered?.context.issue).toMatchObject({ number: 7, author: "ada", writer: true, body: "Crashes; see #3." });
    expect(gathered?.context.discussion.map((entry) => [entry.author, entry.writer, entry.body])).toEqual([
      ["mallory", false, "It is #4 really."],
      ["ada", true, "comment 4"],
    ]);
    expect(gathered?.context.references).toMatchObject([{ number: 3, kind: "pull request", state: "open", title: "Parser rewrite", body: "Rewrote it.", writer: true }]);
    expect(gathered?.context.notes).toEqual(["#4, which could not be read"]);
  });

  it("is null for an issue that is gone", async () => {
    nock(GITHUB_API).get(`${path}/issues/7`).reply(404, { message: "Not Found" });
    expect(await gatherIssueContext(octokit, window(), createRoleLookup())).toBeNull();
  });

  it("fails with a retryable GitHub error when GitHub is down", async () => {
    nock(GITHUB_API).get(`${path}/issues/7`).reply(502, { message: "Bad Gateway" });
    const error = await gatherIssueContext(octokit, window(), createRoleLookup()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobError);
    expect(error).toMatchObject({ kind: "github", retryable: true, message: "GitHub failed reading issue #7 (HTTP 502)" });
  });
});
