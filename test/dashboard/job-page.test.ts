import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { findJob, updateJob } from "../../src/store/job-queries.ts";
import { jobEvents } from "../../src/store/job-events.sql.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";
import { TEST_API_TOKEN } from "../support/api-server.ts";
import { useBrowser, waitForText } from "../support/browser.ts";
import { insertJob } from "../support/job-fixture.ts";
import { REPOSITORY, useDashboardServer } from "./dashboard-fixtures.ts";

const server = useDashboardServer();
const browser = useBrowser();

const [owner, name] = REPOSITORY.split("/") as [string, string];
const MINUTE = 60_000;

/** A job of the installed repository, asked through the API without an issue. */
const newJob = (overrides: Partial<Job>) => insertJob(server.database.db, { repoOwner: owner, repoName: name, issueNumber: 0, trigger: "api", requesterLogin: "ana", ...overrides });

/** A log entry, at `minutesAgo` (the page draws the phases on their time axis). */
async function log(job: Job, minutesAgo: number, kind: string, message: string, data: Record<string, unknown> | null = null): Promise<void> {
  await server.database.db.insert(jobEvents).values({ jobId: job.id, kind, message, data, at: new Date(Date.now() - minutesAgo * MINUTE) });
}

describe("a job's page", () => {
  it("follows the job live, from queued to its pull request: status, phases, what the agent did, the plan and the changes", async () => {
    const job = await newJob({ status: "queued", task: "Add greet(name) to src/greet.js\n\nAnd test it." });
    const page = await browser.open(`${server.url}#/jobs/${job.id}`, { token: TEST_API_TOKEN });
    const detail = page.locator(".detail");
    await waitForText(detail.locator(".job-head .badge"), "queued");
    await waitForText(detail, "Waiting for a worker");
    expect(await detail.locator(".job-head").innerText()).not.toContain("#0");

    await updateJob(server.database.db, job.id, { status: "running", phase: "prepare", startedAt: new Date(Date.now() - 9 * MINUTE) });
    await log(job, 9, "phase", "phase prepare started", { phase: "prepare" });
    await waitForText(detail.locator(".job-head .badge"), "running");
    await waitForText(detail.locator(".phases-table"), "prepare");

    await log(job, 8, "phase", "phase explore started");
    await log(job, 6, "phase", "phase plan started");
    const plan = { summary: "Add greet() and its test.", steps: [{ title: "Write greet(name)", detail: "Return `Hello, ${name}!`.", files: ["src/greet.js"] }, { title: "Test it", detail: "", files: ["test/greet.test.js"] }] };
    await log(job, 5.5, "plan", "plan ready: 2 step(s)", { plan });
    await log(job, 5, "phase", "phase build started");
    await log(job, 4.5, "tool", "edit src/greet.js", { tool: "edit", title: "src/greet.js", status: "completed", phase: "build" });
    await log(job, 4.2, "tool", "bash npm test", { tool: "bash", title: "npm test", status: "completed", phase: "build" });
    await log(job, 4, "phase", "phase verify started");
    await log(job, 3.5, "check", "test: failed", { output: "1 failing: greet() returns undefined" });
    await log(job, 3.4, "round", "round 1: checks failed");
    await log(job, 3.3, "phase", "phase build started");
    await log(job, 3, "tool", "edit src/greet.js", { tool: "edit", title: "src/greet.js", status: "completed", phase: "build" });
    await log(job, 2.5, "phase", "phase verify started");
    await log(job, 2, "check", "test: passed", { output: "2 passing" });
    await updateJob(server.database.db, job.id, { phase: "verify", iterations: 2, totalCost: 0.0831, totalTokensIn: 41_200, totalTokensOut: 3_900 });
    const activity = detail.locator(".activity");
    await waitForText(activity.locator(".act-check"), "test: passed");
    await waitForText(detail.locator(".figures"), "verify · round 2");
    // In order, each drawn for what it is: files edited, commands run, checks and their results.
    expect(await activity.locator(".activity-item .act-label").allInnerTexts()).toEqual(["Phase", "Phase", "Phase", "Plan", "Phase", "Edited", "Ran", "Phase", "Check", "Round", "Phase", "Edited", "Phase", "Check"]);
    await waitForText(detail.locator(".plan"), "Write greet(name)");
    expect(await detail.locator(".phases-table tbody tr").count()).toBe(7);

    await log(job, 1, "phase", "phase deliver started");
    await log(job, 0.5, "push", "pushed 2 changed file(s) to agent/task-x", { sha: "c0ffee", files: ["src/greet.js", "test/greet.test.js"] });
    await updateJob(server.database.db, job.id, {
      status: "completed",
      phase: "deliver",
      testsPassed: true,
      prUrl: `https://github.com/${REPOSITORY}/pull/12`,
      prNumber: 12,
      finishedAt: new Date(),
      usageByPhase: { explore: { cost: 0.02, tokensIn: 20_000, tokensOut: 900 }, build: { cost: 0.05, tokensIn: 18_000, tokensOut: 2_800 } },
    });
    await log(job, 0, "finished", "job completed");
    // The details follow the job to its end: nothing stays at "running".
    await waitForText(detail.locator(".job-head .badge"), "completed");
    await waitForText(detail.locator(".work"), "Pull request #12");
    expect(await detail.locator(".work a[href]").first().getAttribute("href")).toBe(`https://github.com/${REPOSITORY}/pull/12`);
    await waitForText(detail.locator(".figures"), "passing");
    await waitForText(detail.locator(".work .files"), "test/greet.test.js");
    expect(await detail.locator(".job-head button").count()).toBe(0);
    expect(await detail.locator(".phase-bar.going").count()).toBe(0);
    await browser.screenshot(page, "job-completed-1280");
  });

  it("says up front why a job failed, and retries it", async () => {
    const job = await newJob({ status: "failed", phase: "build", failureKind: "model", failureMessage: "The model provider kept answering HTTP 500: check its status page", startedAt: new Date(Date.now() - 5 * MINUTE), finishedAt: new Date() });
    await log(job, 5, "phase", "phase prepare started");
    await log(job, 0, "finished", "job failed");
    const page = await browser.open(`${server.url}#/jobs/${job.id}`, { token: TEST_API_TOKEN });
    const alert = page.locator(".detail .alert.tone-danger");
    await waitForText(alert, "kept answering HTTP 500");
    expect(await alert.innerText()).toContain("Failed");
    await browser.screenshot(page, "job-failed-1280");

    await page.getByRole("button", { name: "Retry" }).click();
    await waitForText(page.locator(".job-head .badge"), "queued");
    expect(await findJob(server.database.db, job.id)).toMatchObject({ status: "queued", failureMessage: null });
    await page.locator(".job-head").getByRole("button", { name: "Cancel job" }).waitFor();
    expect(await page.locator(".detail .alert").count()).toBe(0);
  });

  it("cancels a queued job, and shows a delivered job whose checks fail as such, never as a success", async () => {
    const queued = await newJob({ status: "queued" });
    const page = await browser.open(`${server.url}#/jobs/${queued.id}`, { token: TEST_API_TOKEN });
    await page.getByRole("button", { name: "Cancel job" }).click();
    await waitForText(page.locator(".job-head .badge"), "cancelled");
    await waitForText(page.locator(".detail .alert"), "before it started");
    const [row] = await server.database.db.select().from(jobs).where(eq(jobs.id, queued.id));
    expect(row?.status).toBe("cancelled");

    const failing = await newJob({ status: "completed", testsPassed: false, prUrl: `https://github.com/${REPOSITORY}/pull/13`, prNumber: 13, finishedAt: new Date(), task: "Speed up the parser" });
    await log(failing, 2, "check", "lint: passed");
    await log(failing, 2, "check", "test: failed", { output: "parser.test.js: 3 failing" });
    await log(failing, 1, "round", "round 3: checks failed");
    await log(failing, 0, "finished", "job completed");
    await page.evaluate(`location.hash = "#/jobs/${failing.id}"`);
    await waitForText(page.locator(".detail .alert.tone-warn"), "these checks still fail: test.");
    expect(await page.locator(".job-head .badge").innerText()).toBe("checks failing");
    expect(await page.locator(".figures").innerText()).toContain("failing");
  });

  it("shows the agent's summary, its plan and the files it changed from the job itself, with no log to read them from", async () => {
    const plan = { summary: "Split the parser into a tokenizer and a reader.", steps: [{ title: "Extract the tokenizer", detail: "Move tokenize() to its own file.", files: ["src/tokenize.js"] }] };
    const pushed = { sha: "c0ffee", files: ["src/tokenize.js", "src/parser.js"], summary: "Moved tokenize() out of the parser; its tests pass.", testsPassed: true, checksPassed: true, testSummary: "" };
    const job = await newJob({ status: "completed", phase: "deliver", testsPassed: true, prUrl: `https://github.com/${REPOSITORY}/pull/14`, prNumber: 14, finishedAt: new Date(), checkpoint: { plan, pushed } });
    const page = await browser.open(`${server.url}#/jobs/${job.id}`, { token: TEST_API_TOKEN });
    const detail = page.locator(".detail");
    await waitForText(detail, "Moved tokenize() out of the parser; its tests pass.");
    await waitForText(detail.locator(".plan"), "Extract the tokenizer");
    await waitForText(detail.locator(".work .files"), "src/parser.js");
  });

  it("stops a running job: the button goes, the page says who stopped it, and follows it to its end", async () => {
    const job = await newJob({ status: "running", phase: "build", startedAt: new Date(Date.now() - 2 * MINUTE) });
    await log(job, 2, "phase", "phase build started", { phase: "build" });
    const page = await browser.open(`${server.url}#/jobs/${job.id}`, { token: TEST_API_TOKEN });
    await page.getByRole("button", { name: "Cancel job" }).click();
    await waitForText(page.locator(".job-head"), "Stopping: cancelled by an API client");
    expect(await page.locator(".job-head").getByRole("button", { name: "Cancel job" }).count()).toBe(0);
    expect((await findJob(server.database.db, job.id))?.cancelRequestedAt).not.toBeNull();
    // Its worker ends it (src/jobs/run-job.ts records the end); the page follows.
    await updateJob(server.database.db, job.id, { status: "cancelled", failureKind: "cancelled", failureMessage: "cancelled by an API client", finishedAt: new Date() });
    await log(job, 0, "finished", "job cancelled: cancelled by an API client", { status: "cancelled" });
    await waitForText(page.locator(".job-head .badge"), "cancelled");
    expect(await page.locator(".job-head").innerText()).not.toContain("Stopping");
  });

  it("says so for a job that does not exist", async () => {
    const page = await browser.open(`${server.url}#/jobs/00000000-0000-4000-8000-000000000000`, { token: TEST_API_TOKEN });
    await waitForText(page.locator(".detail .notice-error"), "There is no job with that id.");
  });
});
