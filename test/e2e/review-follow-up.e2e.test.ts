import { describe, expect, it } from "vitest";
import { jobs } from "../../src/store/jobs.sql.ts";
import { startModelServer, type ModelServer, type Turn } from "../fakes/model-server.ts";
import { startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { seedFirstJob as seedEarlierJob } from "../support/first-job.ts";
import { nockFollowUpCalls, nockInstallationToken, nockReviewReplies, nockReviewTargets, nockRole } from "../support/github-api.ts";
import { postWebhook, reviewCommentJson, reviewCommentPayload, reviewSubmittedPayload, testRepo, type PullRequestFixture, type RepoFixture } from "../support/github-fixtures.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, requestsOf, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const e2e = useEndToEnd();

const BRANCH = "agent/7-add-a-greeting-function";
const PR = 12;
const REVIEW_ID = 8801;
/** The pull request the first job opened: the app's bot wrote it, so its description is not quoted to the agent. */
const PULL_REQUEST: PullRequestFixture = { number: PR, headRef: BRANCH, body: "Closes #7", author: { login: "running-agent[bot]", id: 9_900_001, type: "Bot" } };
const SHOUT_SOURCE = `${GREET_SOURCE}exports.shout = (name) => \`HELLO, \${name.toUpperCase()}!\`;\n`;
/** What the first job added, as GitHub shows it under a comment on both of its lines. */
const SHOUT_HUNK = `@@ -0,0 +1,2 @@\n+${GREET_SOURCE.trimEnd()}\n+exports.shout = (name) => \`HELLO, \${name.toUpperCase()}!\`;`;
const EXCLAIM_SOURCE = `${GREET_SOURCE}exports.exclaim = (name) => \`HELLO, \${name.toUpperCase()}!\`;\n`;

const write = (file: string, content: string) => ({ name: "write", arguments: { filePath: file, content } });
const writes = (files: Record<string, string>): Turn => ({ toolCalls: Object.entries(files).map(([file, content]) => write(file, content)) });

/** The text of the last user message of a model request: the prompt, unescaped. */
function promptOf(request: ModelServer["requests"][number]): string {
  const content = request.messages.filter((message) => message.role === "user").at(-1)?.content;
  if (typeof content === "string") return content;
  return (content as Array<{ text?: string }>).map((part) => part.text ?? "").join("\n");
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

function seedFirstJob(repo: RepoFixture): Promise<string> {
  return seedEarlierJob(e2e, repo, { branch: BRANCH, pullNumber: PR, files: { "greet.js": SHOUT_SOURCE }, message: "Add greet and shout (#7)", summary: "Added greet(name) and shout(name)." });
}

/** The app with the scripted model, the first job's branch, and GitHub for a follow-up asked by octocat. */
async function startFollowUp(build: Turn[][], discussion?: { reviews?: unknown[]; reviewComments?: unknown[] }) {
  e2e.model = await startModelServer(agentScript({ build }));
  const repo = testRepo({ cloneUrl: e2e.remote.url });
  e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
  const firstSha = await seedFirstJob(repo);
  nockInstallationToken(3);
  nockRole(repo, "octocat", "write");
  const { seen, worker } = nockFollowUpCalls(repo, { pullNumber: PR, branch: BRANCH, announcedSha: firstSha, workerSha: firstSha, ...(discussion ? { discussion } : {}) });
  return { repo, firstSha, seen, worker };
}

async function finishedJob(worker: { checkRuns: Array<Record<string, unknown>> }) {
  const job = await e2e.harness!.waitForJob((candidate) => candidate.finishedAt !== null && candidate.issueNumber === PR);
  // Replies are posted after the row is final, and before the check run completes.
  await waitUntil(() => worker.checkRuns.at(-1)?.status === "completed", { what: "the check run to complete" });
  return job;
}

async function submitReview(repo: RepoFixture, body: string) {
  const payload = reviewSubmittedPayload({ body, repo, pullRequest: PULL_REQUEST, reviewId: REVIEW_ID, submittedAt: new Date().toISOString() });
  await postWebhook(e2e.harness!.url, { event: "pull_request_review", secret: WEBHOOK_SECRET, payload });
}

describe("/agent in a review comment on lines of a file", () => {
  it("commits on the pull request's branch, with the lines, their hunk and the comment in the prompt, and replies in the thread", async () => {
    const { repo, firstSha, seen, worker } = await startFollowUp([
      [writes({ "greet.js": EXCLAIM_SOURCE }), { text: "Renamed shout to exclaim.\n\nReview comment 1: done — renamed the function" }],
    ]);
    const replies = nockReviewReplies(repo, PR, [9101]);
    const now = new Date().toISOString();
    const payload = reviewCommentPayload({
      body: "/agent rename shout to exclaim",
      repo,
      pullRequest: PULL_REQUEST,
      commentId: 9101,
      reviewId: null,
      fields: { path: "greet.js", start_line: 1, line: 2, original_start_line: 1, original_line: 2, side: "RIGHT", diff_hunk: SHOUT_HUNK, created_at: now, updated_at: now },
    });

    await postWebhook(e2e.harness!.url, { event: "pull_request_review_comment", secret: WEBHOOK_SECRET, payload });
    const job = await finishedJob(worker);

    expect(job).toMatchObject({ status: "completed", trigger: "review", task: "rename shout to exclaim", isPullRequest: true, branch: BRANCH, prNumber: PR, failureKind: null });
    expect(seen.announcedCheckRun).toMatchObject({ head_sha: firstSha });
    // One new commit on top of the first job's, on the pull request's branch.
    const head = e2e.remote.git("rev-parse", BRANCH);
    expect(e2e.remote.git("rev-parse", `${head}^`)).toBe(firstSha);
    expect(e2e.remote.git("show", `${head}:greet.js`)).toBe(EXCLAIM_SOURCE.trimEnd());
    // The build agent was told where the comment points, what the code there was, and what it says.
    const prompt = promptOf(requestsOf(e2e.model!, "build")[0]!);
    expect(prompt).toMatch(/Review comment 1: `greet\.js`, lines 1–2\b/);
    expect(prompt).toContain(SHOUT_HUNK);
    expect(prompt).toContain("/agent rename shout to exclaim");
    // The thread hears what the agent reported for it, and which commit did it.
    expect(replies).toEqual([{ commentId: 9101, body: expect.stringContaining("done — renamed the function") }]);
    expect(replies[0]!.body).toContain(head);
  });

  // Each round's reply replaces the summary, and a scripted model does not follow the
  // reminder in the fix prompt: the report lines of the first round must be carried.
  it("keeps the agent's report for the comment when a fix round follows", async () => {
    const broken = EXCLAIM_SOURCE.replace("Hello", "Hi");
    const { repo, worker } = await startFollowUp([
      [writes({ "greet.js": broken }), { text: "Renamed shout to exclaim.\n\nReview comment 1: done — renamed the function" }],
      // What the fix prompt asks for: a summary of everything changed so far.
      [writes({ "greet.js": EXCLAIM_SOURCE }), { text: "Renamed shout to exclaim, and put back the greeting I had changed by mistake." }],
    ]);
    const replies = nockReviewReplies(repo, PR, [9101]);
    const now = new Date().toISOString();
    const payload = reviewCommentPayload({
      body: "/agent rename shout to exclaim",
      repo,
      pullRequest: PULL_REQUEST,
      commentId: 9101,
      reviewId: null,
      fields: { path: "greet.js", line: 2, original_line: 2, side: "RIGHT", diff_hunk: SHOUT_HUNK, created_at: now, updated_at: now },
    });

    await postWebhook(e2e.harness!.url, { event: "pull_request_review_comment", secret: WEBHOOK_SECRET, payload });
    const job = await finishedJob(worker);

    expect(job).toMatchObject({ status: "completed", iterations: 2 });
    expect(replies).toEqual([{ commentId: 9101, body: expect.stringContaining("done — renamed the function") }]);
  });
});

describe("/agent in a submitted review's summary", () => {
  const comments = [
    reviewCommentJson({ id: 9201, body: "Make greet a named function.", path: "greet.js", line: 1, diffHunk: SHOUT_HUNK.split("\n").slice(0, 2).join("\n") }),
    // A reply in an older thread: GitHub only takes replies to the thread's first comment.
    reviewCommentJson({ id: 9202, body: "Do we still need shout at all?", path: "greet.js", line: 2, diffHunk: SHOUT_HUNK, inReplyToId: 9100 }),
    reviewCommentJson({ id: 9203, body: "Document greet() here.", path: "README.md", line: 1, diffHunk: "@@ -1 +1 @@\n # hello" }),
  ];
  const review = { id: REVIEW_ID, user: { login: "octocat", id: 583231, type: "User" }, body: "/agent address these", state: "commented", submitted_at: new Date().toISOString() };

  it("addresses all of the review's comments in one job and answers each thread with its own report", async () => {
    const summary = [
      "Made greet a named function and documented it.",
      "",
      "Review comment 1: done — greet is a named function now",
      "Review comment 2: not done — shout is still used by the CLI",
      "Review comment 3: done — documented greet() in the README",
    ].join("\n");
    const named = "function greet(name) {\n  return `Hello, ${name}!`;\n}\nexports.greet = greet;\nexports.shout = (name) => `HELLO, ${name.toUpperCase()}!`;\n";
    // The worker also lists the review and its comments as discussion: they must not show twice.
    const { repo, firstSha, worker } = await startFollowUp([[writes({ "greet.js": named, "README.md": "# hello\n\n`greet(name)` returns a greeting.\n" }), { text: summary }]], {
      reviews: [review],
      reviewComments: comments,
    });
    nockReviewTargets(repo, { pullNumber: PR, reviewId: REVIEW_ID, comments });
    const replies = nockReviewReplies(repo, PR, [9201, 9100, 9203]);

    await submitReview(repo, "/agent address these");
    const job = await finishedJob(worker);

    expect(job).toMatchObject({ status: "completed", trigger: "review", task: "address these", branch: BRANCH, prNumber: PR });
    expect(await e2e.harness!.database.db.select({ id: jobs.id }).from(jobs)).toHaveLength(2);
    const head = e2e.remote.git("rev-parse", BRANCH);
    expect(e2e.remote.git("rev-parse", `${head}^`)).toBe(firstSha);
    expect(e2e.remote.git("show", `${head}:README.md`)).toContain("greet(name)");
    // One prompt with the three comments, numbered in the review's order, each once.
    const prompt = promptOf(requestsOf(e2e.model!, "build")[0]!);
    expect(prompt).toMatch(/Review comment 1: `greet\.js`, line 1\b/);
    expect(prompt).toMatch(/Review comment 2: `greet\.js`, line 2\b/);
    expect(prompt).toMatch(/Review comment 3: `README\.md`, line 1\b/);
    for (const comment of comments) expect(occurrences(prompt, comment.body as string)).toBe(1);
    expect(prompt).toContain("address these");
    // One reply per thread, in the thread's first comment, each with its own line of the report.
    expect(replies.map((reply) => reply.commentId)).toEqual([9201, 9100, 9203]);
    expect(replies[0]!.body).toContain("done — greet is a named function now");
    expect(replies[1]!.body).toContain("not done — shout is still used by the CLI");
    expect(replies[2]!.body).toContain("done — documented greet() in the README");
    for (const reply of replies) expect(reply.body).toContain(head);
    expect(replies[1]!.body).not.toContain("named function");
  });

  it("tells each thread that nothing was pushed when the agent changes nothing, and fails the job with no_changes", async () => {
    const summary = "greet already reads well; I left the code as it is.\n\nReview comment 1: not done — greet is already clear as an arrow function";
    const { repo, firstSha, worker } = await startFollowUp([[{ text: summary }]]);
    nockReviewTargets(repo, { pullNumber: PR, reviewId: REVIEW_ID, comments: comments.slice(0, 2) });
    const replies = nockReviewReplies(repo, PR, [9201, 9100]);

    await submitReview(repo, "/agent address these");
    const job = await finishedJob(worker);

    expect(job).toMatchObject({ status: "failed", failureKind: "no_changes" });
    expect(e2e.remote.git("rev-parse", BRANCH)).toBe(firstSha);
    expect(replies.map((reply) => reply.commentId)).toEqual([9201, 9100]);
    // The agent's own word where it gave one; otherwise a plain statement, never a claim that it was handled.
    expect(replies[0]!.body).toContain("not done — greet is already clear as an arrow function");
    expect(replies[0]!.body).toContain("No changes were pushed.");
    expect(replies[1]!.body).toMatch(/without changing any file/);
    expect(replies[1]!.body).toMatch(/did not report on this comment/);
    for (const reply of replies) expect(reply.body).not.toMatch(/Pushed/);
  });
});
