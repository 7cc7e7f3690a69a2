import { jobs } from "../../src/store/jobs.sql.ts";
import type { EndToEnd } from "./end-to-end.ts";
import type { RepoFixture } from "./github-fixtures.ts";
import { pushCommit } from "./git-remote.ts";
import { jobFixture } from "./job-fixture.ts";

/**
 * The remote and the database as an earlier job left them, an hour ago: its branch pushed
 * with `files`, its pull request `pullNumber` open. Returns the pushed commit.
 */
export async function seedFirstJob(
  e2e: EndToEnd,
  repo: RepoFixture,
  options: { branch: string; pullNumber: number; files: Record<string, string>; message: string; summary: string },
): Promise<string> {
  const sha = await pushCommit(e2e.remote, { branch: options.branch, files: options.files, message: options.message, author: "Running Agent" });
  const createdAt = new Date(Date.now() - 3_600_000);
  await e2e.harness!.database.db.insert(jobs).values(
    jobFixture({
      repoId: repo.id,
      cloneUrl: repo.cloneUrl,
      status: "completed",
      prNumber: options.pullNumber,
      prUrl: `https://github.com/${repo.owner}/${repo.name}/pull/${options.pullNumber}`,
      baseSha: e2e.remote.headSha,
      checkpoint: { pushed: { sha, files: Object.keys(options.files), summary: options.summary, testsPassed: true, checksPassed: true, testSummary: "" } },
      createdAt,
      updatedAt: createdAt,
      finishedAt: createdAt,
    }),
  );
  return sha;
}
