import type { ProbotOctokit } from "probot";
import { diffAgainst, hasChanges } from "../../sandbox/git-workspace.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { withCheckpoint, type BuildState, type PushedWork } from "../../jobs/checkpoint.ts";
import { JobError } from "../../job-error.ts";
import type { JobRun } from "../../jobs/job-run.ts";

/** GitHub refuses comments over 65,536 characters; the rest of the comment needs room. */
const MAX_PATCH_CHARS = 60_000;

/**
 * A pull request from a fork, where the app cannot push (AGENT_FORK_PULL_REQUESTS=propose):
 * the agent's work goes on the thread as a patch the author can apply, and nothing is
 * pushed anywhere. Checkpointed like a push, so a retry does not post it twice.
 */
export async function proposePatch(run: JobRun, octokit: ProbotOctokit, sandbox: Sandbox, build: BuildState): Promise<PushedWork> {
  const job = run.job;
  const fork = job.followUp!.fork!;
  if (!(await hasChanges(sandbox, job.baseSha!))) {
    throw new JobError("no_changes", `the agent finished without changing any file. Its last words: ${build.summary.slice(0, 500)}`);
  }
  const patch = run.redact(await diffAgainst(sandbox, job.baseSha!));
  const files = filesOf(patch);
  const summary = run.redact(build.summary);
  await octokit.rest.issues.createComment({
    owner: job.repoOwner,
    repo: job.repoName,
    issue_number: job.followUp!.pullRequest.number,
    body: renderProposal({ patch, files, summary, branch: `${fork.fullName}:${job.branch}`, baseSha: job.baseSha!, requester: job.requesterLogin }),
  });
  const verification = build.verification;
  const proposed: PushedWork = {
    sha: job.baseSha!,
    files,
    summary,
    testsPassed: verification?.testsPassed ?? null,
    checksPassed: verification?.passed ?? true,
    testSummary: run.redact(verification?.summary ?? ""),
    proposed: true,
  };
  await run.record({ checkpoint: withCheckpoint(job, "pushed", proposed) });
  await run.event("proposed", `proposed a patch of ${files.length} file(s) in a comment (the pull request comes from a fork)`, { files });
  return proposed;
}

/** The files a `git diff` names, in order, each once. */
export function filesOf(patch: string): string[] {
  const files = [...patch.matchAll(/^diff --git a\/.+? b\/(.+)$/gm)].map((match) => match[1]!);
  return [...new Set(files)];
}

export function renderProposal(input: { patch: string; files: string[]; summary: string; branch: string; baseSha: string; requester: string }): string {
  const fits = input.patch.length <= MAX_PATCH_CHARS;
  const patch = fits ? input.patch : input.patch.slice(0, MAX_PATCH_CHARS);
  const fence = "`".repeat(Math.max(3, ...[...patch.matchAll(/`+/g)].map((run) => run[0].length + 1)));
  return [
    `🍴 This pull request comes from a fork, which Running Agent cannot push to, so here is the patch for @${input.requester}'s request instead.`,
    "",
    input.summary.trim() || "_The agent gave no summary._",
    "",
    `To apply it, save the patch below as \`agent.patch\` and run \`git apply agent.patch\` on \`${input.branch}\` (at \`${input.baseSha.slice(0, 7)}\`), then push.`,
    fits ? "" : `\n⚠️ The patch is too long for a comment: these are its first ${MAX_PATCH_CHARS.toLocaleString("en-US")} characters, which will not apply as they are.`,
    `<details><summary>Patch: ${input.files.length} file(s) changed</summary>`,
    "",
    `${fence}diff`,
    patch.trimEnd(),
    fence,
    "</details>",
  ].join("\n");
}
