import type { ProbotOctokit } from "probot";
import { readRepoConfig } from "../repo-config-file.ts";
import { parseRepoConfig } from "../../config/repo-config.ts";
import { repositoryEgressOf } from "../../config/sandbox-policy.ts";
import type { JobRun } from "../../jobs/job-run.ts";

/**
 * The extra hosts the repository asks its sandbox to reach (`sandbox.egress` in
 * `.github/agent.yml`) that the operator lets repositories add. Read through GitHub before
 * the sandbox exists, since its network rules are set when it is created. Only for E2B:
 * the local sandbox does not filter egress. A malformed file grants nothing here; the job
 * reports it, with its line numbers, once the checkout is read.
 */
export async function repositoryEgress(run: JobRun, octokit: ProbotOctokit): Promise<string[]> {
  const job = run.job;
  if (run.deps.sandboxes.name !== "e2b" || job.baseSha === null || job.followUp?.fork) return [];
  const text = await readRepoConfig(octokit, job.repoOwner, job.repoName, job.baseSha);
  if (text === null) return [];
  const parsed = parseRepoConfig(text);
  const requested = parsed.ok ? (parsed.config.sandbox?.egress ?? []) : [];
  if (requested.length === 0) return [];
  const { granted, refused } = repositoryEgressOf(requested, run.deps.settings.egressPatterns);
  if (granted.length > 0) await run.event("egress", `the sandbox may also reach, as .github/agent.yml asks: ${granted.join(", ")}`);
  if (refused.length > 0) await run.event("egress", `not granted (the operator allows repositories to add only what E2B_EGRESS_REPO_ALLOWED lists): ${refused.join(", ")}`);
  return granted;
}
