import nock from "nock";
import { describe, expect, it } from "vitest";
import { startModelServer, type Turn } from "../fakes/model-server.ts";
import { startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { GITHUB_API, nockInstallationToken, nockRole, nockWorkerCalls, recordJson } from "../support/github-api.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT, pushCommit, type GitRemote } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const e2e = useEndToEnd();

const PR = 21;
const FORK_BRANCH = "add-greeting";
const write = (file: string, content: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath: file, content } }] });

describe("a pull request from a fork, with AGENT_FORK_PULL_REQUESTS=propose", () => {
  it("works on a read-only clone of the fork and proposes its patch in a comment, pushing nothing anywhere", async () => {
    const fork: GitRemote = await createGitRemote(GREETING_PROJECT);
    try {
      const forkHead = await pushCommit(fork, { branch: FORK_BRANCH, from: "main", files: { "NOTES.md": "from the fork\n" }, message: "Start the greeting", author: "Contributor" });
      e2e.model = await startModelServer(agentScript({ build: [[write("greet.js", GREET_SOURCE), { text: "Added greet(name) in greet.js." }]] }));
      const repo = testRepo({ cloneUrl: e2e.remote.url });
      e2e.harness = await startAppHarness({ ...scriptedModelEnv(e2e.model), AGENT_FORK_PULL_REQUESTS: "propose" });
      const path = `/repos/${repo.owner}/${repo.name}`;
      const posted: string[] = [];
      let announcedCheckRun: Record<string, unknown> | null = null;
      nockInstallationToken(3);
      nockRole(repo, "octocat", "write");
      nockRole(repo, "contributor", "read");
      nock(GITHUB_API)
        .get(`${path}/pulls/${PR}`)
        .reply(200, {
          number: PR,
          title: "Add a greeting",
          body: "Please add greet().",
          state: "open",
          html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${PR}`,
          user: { login: "contributor", type: "User" },
          head: { ref: FORK_BRANCH, sha: forkHead, repo: { id: 999, clone_url: fork.url, full_name: "contributor/hello-world" } },
        })
        .post(`${path}/issues/comments/9001/reactions`, { content: "eyes" })
        .reply(201, { id: 1 })
        .post(`${path}/issues/${PR}/comments`)
        .reply(201, { id: 5001 })
        .post(`${path}/check-runs`)
        .reply(201, recordJson((body) => ((announcedCheckRun = body), { id: 6001 })))
        .get(`${path}/issues/${PR}/comments`)
        .query(true)
        .reply(200, [])
        .get(`${path}/pulls/${PR}/reviews`)
        .query(true)
        .reply(200, [])
        .get(`${path}/pulls/${PR}/comments`)
        .query(true)
        .reply(200, [])
        .post(`${path}/issues/${PR}/comments`)
        .reply(201, recordJson<{ body: string }>((body) => (posted.push(body.body), { id: 5002 })));
      const worker = nockWorkerCalls(repo, { expectPullRequest: false });
      const payload = issueCommentPayload({ body: "/agent add greet(name) in greet.js", repo, issueNumber: PR, onPullRequest: true });
      (payload.comment as Record<string, unknown>).created_at = new Date().toISOString();

      await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload });
      const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
      await waitUntil(() => worker.checkRuns.at(-1)?.status === "completed", { what: "the check run to complete" });

      expect(job.failureMessage).toBeNull();
      expect(job).toMatchObject({ status: "completed", baseSha: forkHead, testsPassed: true });
      expect(announcedCheckRun).toMatchObject({ head_sha: forkHead });
      // The patch, in a comment, against the fork's head.
      expect(posted).toHaveLength(1);
      expect(posted[0]).toContain("comes from a fork");
      expect(posted[0]).toContain("```diff");
      expect(posted[0]).toContain("+exports.greet = (name) => `Hello, ${name}!`;");
      expect(posted[0]).not.toContain("NOTES.md");
      expect(worker.comments.at(-1)).toContain("proposed a patch");
      // Nothing was pushed: not to the fork, not to this repository.
      expect(fork.git("rev-parse", FORK_BRANCH)).toBe(forkHead);
      expect(e2e.remote.git("branch", "--list", "--format=%(refname:short)")).toBe("main");
    } finally {
      await fork.cleanup();
    }
  });
});
