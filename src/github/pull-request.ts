import type { ProbotOctokit } from "probot";
import { NO_ISSUE, type Job } from "../store/jobs.sql.ts";
import { formatUsd } from "../budget.ts";
import { formatDuration } from "../duration.ts";

export interface PullRequestContent {
  summary: string;
  testsPassed: boolean | null;
  /** Every check the agent was held to passed; a draft otherwise. */
  checksPassed: boolean;
  testSummary: string | null;
  changedFiles: string[];
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
  durationMs: number;
}

/**
 * Open the job's pull request, or update it when a retried job finds the one it opened
 * before. Draft while the tests still fail, so nobody merges it by accident.
 */
export async function openPullRequest(octokit: ProbotOctokit, job: Job, content: PullRequestContent): Promise<{ number: number; url: string }> {
  return openOrUpdatePullRequest(octokit, {
    owner: job.repoOwner,
    repo: job.repoName,
    head: job.branch,
    base: job.defaultBranch,
    title: pullRequestTitle(job),
    body: renderPullRequestBody(job, content),
    draft: !content.checksPassed,
  });
}

/** The open pull request from `head`, updated, or a new one: a retry never opens a second. */
export async function openOrUpdatePullRequest(
  octokit: ProbotOctokit,
  request: { owner: string; repo: string; head: string; base: string; title: string; body: string; draft: boolean },
): Promise<{ number: number; url: string }> {
  const { owner, repo, head, base, title, body, draft } = request;
  const { data: existing } = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${head}`, state: "open" });
  const open = existing[0];
  if (open) {
    const { data } = await octokit.rest.pulls.update({ owner, repo, pull_number: open.number, title, body });
    return { number: data.number, url: data.html_url };
  }
  const { data } = await octokit.rest.pulls.create({ owner, repo, head, base, title, body, draft });
  return { number: data.number, url: data.html_url };
}

export function pullRequestTitle(job: Job): string {
  const title = job.issueTitle.trim() || job.task.split("\n")[0]?.trim() || "Changes by Running Agent";
  return title.length > 120 ? `${title.slice(0, 117)}…` : title;
}

export function renderPullRequestBody(job: Job, content: PullRequestContent): string {
  const tests = content.testsPassed === null ? "no test command was found" : content.testsPassed ? "✅ passed" : "❌ failed";
  const checks = content.checksPassed ? "✅ passed" : "❌ still failing after the last round (this pull request is a draft)";
  const lines = [
    ...(job.issueNumber === NO_ISSUE ? taskLines(job) : [`Closes #${job.issueNumber}`, "", `Requested by @${job.requesterLogin}.`]),
    "",
    "## Summary",
    content.summary.trim() || "_The agent gave no summary._",
    "",
    "## Result",
    "| | |",
    "|---|---|",
    `| Tests | ${tests} |`,
    `| Checks | ${checks} |`,
    `| Rounds | ${job.iterations}${job.debugMode ? " (debug mode)" : ""} |`,
    `| Files changed | ${content.changedFiles.length} |`,
    `| Tokens | ${content.tokensIn.toLocaleString("en-US")} in / ${content.tokensOut.toLocaleString("en-US")} out |`,
    `| Cost | ${formatUsd(content.costUsd)} |`,
    `| Duration | ${formatDuration(content.durationMs)} |`,
  ];
  if (!content.checksPassed && content.testSummary) {
    lines.push("", "## What still fails", "", "<details><summary>Check output</summary>", "", "```", content.testSummary.replaceAll("```", "'''"), "```", "</details>");
  }
  return lines.join("\n");
}

/** A task asked through the API without an issue: the description holds it, as there is no issue to close. */
function taskLines(job: Job): string[] {
  return [`Requested by ${job.requesterLogin} through the API:`, "", ...job.task.trim().split("\n").map((line) => `> ${line}`.trimEnd())];
}
