import nock from "nock";
import { describe, expect, it } from "vitest";
import { startModelServer } from "../fakes/model-server.ts";
import { API_TOKEN, startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { GITHUB_API, nockInstallationToken, nockWorkerCalls, recordJson } from "../support/github-api.ts";
import { INSTALLATION_ID, testRepo } from "../support/github-fixtures.ts";
import { GREET_SOURCE, pushCommit } from "../support/git-remote.ts";
import { waitUntil } from "../support/wait-until.ts";
import { agentScript, requestsOf, scriptedModelEnv } from "../support/scripted-model.ts";

const e2e = useEndToEnd();

describe("a task asked through the API without an issue", () => {
  it("builds on the base branch it names, reports in its check run there, and opens a pull request that holds the task", async () => {
    e2e.model = await startModelServer(
      agentScript({
        build: [
          [
            { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] },
            { text: "Added greet() in greet.js." },
          ],
        ],
      }),
    );
    // The base branch is not the default one: the work must start from its head.
    const releaseSha = await pushCommit(e2e.remote, { branch: "release", files: { "RELEASE.md": "1.0\n" }, message: "Release 1.0" });
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    const path = `/repos/${repo.owner}/${repo.name}`;
    e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
    nockInstallationToken(3);
    // What the API asks of GitHub: the app's installation, the repository, the base branch.
    const checkRuns: Array<Record<string, unknown>> = [];
    // GitHub holds the check run's creation until the job runs: nobody else announces an API
    // task, and its worker starts it on the base commit and announces it beside its work
    // (waiting for the paced check run instead would deadlock here).
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    nock(GITHUB_API)
      .get(`${path}/installation`)
      .reply(200, { id: INSTALLATION_ID })
      .get(path)
      .reply(200, { id: repo.id, name: repo.name, full_name: `${repo.owner}/${repo.name}`, owner: { login: repo.owner }, clone_url: repo.cloneUrl, default_branch: "main" })
      .get(`${path}/branches/release`)
      .reply(200, { name: "release", commit: { sha: releaseSha } })
      // The announcement: no comment, no reaction, only the check run on the base branch's head.
      .get(`${path}/git/ref/heads%2Frelease`)
      .reply(200, { ref: "refs/heads/release", object: { sha: releaseSha, type: "commit" } })
      .post(`${path}/check-runs`)
      .reply(
        201,
        recordJson(async (body) => {
          checkRuns.push(body);
          await running;
          return { id: 6001 };
        }),
      );
    const seen = nockWorkerCalls(repo, { expectPullRequest: true, issue: null });

    const task = "Add a greet(name) function in greet.js\n\nIt returns `Hello, <name>!`.";
    const response = await fetch(`${e2e.harness.url}/api/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ repository: "octo-org/hello-world", task, base: "release", requester: "release-bot" }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; issue_number: number | null; branch: string; status: string };
    expect(created).toMatchObject({ status: "queued", issue_number: null, branch: `agent/task-${created.id.slice(0, 8)}-add-a-greet-name-function-in-greet-js` });

    await e2e.harness.waitForJob((candidate) => candidate.status === "running" && candidate.checkRunId === null);
    started();
    const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed", { what: "the final check run" });
    expect(job).toMatchObject({ status: "completed", testsPassed: true, prNumber: 12, defaultBranch: "release", baseSha: releaseSha });
    expect(checkRuns).toEqual([expect.objectContaining({ head_sha: releaseSha, status: "queued" })]);
    expect(seen.checkRuns.at(-1)).toMatchObject({ status: "completed", conclusion: "success" });
    expect(seen.comments).toEqual([]);

    // The work is on top of the base branch, and its pull request targets it and holds the task.
    expect(e2e.remote.git("rev-parse", `${created.branch}~1`)).toBe(releaseSha);
    expect(e2e.remote.git("show", `${created.branch}:greet.js`)).toBe(GREET_SOURCE.trim());
    expect(seen.pullRequest).toMatchObject({ head: created.branch, base: "release", title: "Add a greet(name) function in greet.js", draft: false });
    const body = String(seen.pullRequest?.body);
    expect(body).not.toContain("Closes");
    expect(body).toContain("> It returns `Hello, <name>!`.");
    expect(body).toContain("Requested by release-bot through the API");
    expect(JSON.stringify(requestsOf(e2e.model!, "build")[0]?.messages)).toContain("It returns `Hello, <name>!`.");

    const api = await fetch(`${e2e.harness.url}/api/jobs/${job.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(await api.json()).toMatchObject({ status: "completed", issue_number: null, pr_url: "https://github.com/octo-org/hello-world/pull/12", tests_passed: true });
  });
});
