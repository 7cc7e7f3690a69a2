/**
 * `/agent <more>` while the thread's job runs reaches the running agent, over HTTP against
 * the fake GitHub, with the real opencode binary and the scripted model: seen before its
 * next step, in the same session, acknowledged with 👀 and a line on the progress comment;
 * one the agent never came to read runs after it as a job of its own.
 */
import { describe, expect, it } from "vitest";
import { startModelServer, type ModelRequest, type Turn } from "../fakes/model-server.ts";
import { deliver, startAppOnFakeGitHub, startFakeGitHubFor } from "../support/fake-github-app.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { issueCommentPayload, testRepo } from "../support/github-fixtures.ts";
import { agentScript } from "../support/scripted-model.ts";

const e2e = useEndToEnd();
const NONCE = "NONCE-MID-BUILD-6617";
const FAREWELL = "exports.farewell = (name) => `Goodbye, ${name}!`;\n";

/** A gate a model turn waits at until the test opens it. */
function gate(): { wait: Promise<void>; open(): void; reached: Promise<void>; arrive(): void } {
  let open!: () => void;
  let arrive!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  return { wait, open, reached, arrive };
}

const sawNonce = (request: ModelRequest) => JSON.stringify(request.body.messages).includes(NONCE);

async function say(body: string, commentId: number): Promise<void> {
  await deliver(e2e.harness!, e2e.remote, "issue_comment", issueCommentPayload({ body, commentId, repo: testRepo() }));
}

describe("a message written on the thread while its job runs", () => {
  it("reaches the building agent before its next step, in the same session, and changes the work", async () => {
    const firstStep = gate();
    const defaults = agentScript({ build: [] }) as (request: ModelRequest) => Turn;
    e2e.model = await startModelServer(async (request) => {
      if (request.agent !== "build") return defaults(request);
      if (sawNonce(request)) {
        // The message asks for farewell() too: the agent adds it, then finishes.
        return request.turnIndex === 0 ? { toolCalls: [{ name: "write", arguments: { filePath: "farewell.js", content: FAREWELL } }] } : { text: "Added greet() and, as asked on the thread, farewell()." };
      }
      if (request.turnIndex === 0) {
        firstStep.arrive();
        await firstStep.wait;
        return { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] };
      }
      return { text: "Added greet()." };
    });
    const github = await startFakeGitHubFor(e2e.remote, { roles: { octocat: "write" } });
    e2e.harness = await startAppOnFakeGitHub(github, e2e.model);
    await say("/agent add greet()", 9001);

    // The agent is at its first build step when the message comes.
    await firstStep.reached;
    await say(`/agent also add farewell(name) in farewell.js (${NONCE})`, 9002);
    const told = await e2e.harness.waitForJob((job) => job.messages.some((message) => message.outcome === "delivered"));
    await github.waitFor((request) => request.route === "reactions.createForIssueComment" && request.path.endsWith("/issues/comments/9002/reactions"));
    firstStep.open();

    const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
    expect(job).toMatchObject({ status: "completed", testsPassed: true });
    expect(told.messages).toEqual([expect.objectContaining({ author: "octocat", commentId: 9002, outcome: "delivered" })]);
    // No job of its own: the thread has the one.
    expect((await e2e.harness.database.pool.query("select count(*)::int as n from jobs")).rows[0].n).toBe(1);
    // Seen in the session that had the task and the first step: the request carries both, and the message marked as a writer's.
    const seen = e2e.model.requests.find((body) => body.tools?.length && JSON.stringify(body.messages).includes(NONCE))!;
    const history = JSON.stringify(seen.messages);
    expect(history).toContain("add greet()");
    expect(history).toContain("greet.js");
    expect(history).toMatch(/message from @octocat \(write access\), written on the thread while you work/);
    // The work has both, and the progress comment says the message was read.
    expect(e2e.remote.git("ls-tree", "--name-only", job.branch)).toContain("farewell.js");
    const progress = [...github.comments.values()].find((comment) => comment.body.includes("running-agent:job:"))!;
    expect(progress.body).toMatch(/💬 @octocat's message of \d\d:\d\d UTC: read by the agent/);
  });

  it("runs next as a job of its own when the job fails before its agent could read it", async () => {
    const exploring = gate();
    const defaults = agentScript({ build: [[{ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] }, { text: "Added greet()." }]] }) as (request: ModelRequest) => Turn;
    let explorations = 0;
    e2e.model = await startModelServer(async (request) => {
      if (request.agent === "explore" && request.turnIndex === 0 && explorations++ === 0) {
        exploring.arrive();
        await exploring.wait;
        // The first job's model refuses its key: the job fails, never having built.
        return { status: 401, body: { error: { message: "invalid api key" } } };
      }
      return defaults(request);
    });
    const github = await startFakeGitHubFor(e2e.remote, { roles: { octocat: "write" } });
    e2e.harness = await startAppOnFakeGitHub(github, e2e.model);
    await say("/agent add greet()", 9001);
    await exploring.reached;
    const first = await e2e.harness.waitForJob(() => true);

    await say(`/agent and make it polite (${NONCE})`, 9002);
    await e2e.harness.waitForJob((job) => job.messages.length === 1);
    await github.waitFor((request) => request.route === "reactions.createForIssueComment" && request.path.endsWith("/issues/comments/9002/reactions"));
    exploring.open();

    const followUp = await e2e.harness.waitForJob((job) => job.id !== first.id && job.finishedAt !== null);
    const { rows } = await e2e.harness.database.pool.query("select status, messages from jobs where id = $1", [first.id]);
    expect(rows[0].status).toBe("failed");
    expect(rows[0].messages).toEqual([expect.objectContaining({ author: "octocat", outcome: "follow_up", followUpJobId: followUp.id })]);
    expect(followUp).toMatchObject({ status: "completed", trigger: "comment", triggerCommentId: 9002, requesterLogin: "octocat", task: `and make it polite (${NONCE})` });
    const progress = [...github.comments.values()].find((comment) => comment.body.includes(`running-agent:job:${first.id}`))!;
    expect(progress.body).toMatch(/💬 @octocat's message of \d\d:\d\d UTC: came too late for this run: it runs next, as a job of its own/);
  });
});
