import type { ProbotOctokit } from "probot";
import { REPO_CONFIG_PATH } from "../config/repo-config.ts";
import { statusOf } from "./http-status.ts";

/**
 * `.github/agent.yml` at `ref`, read through the API (for decisions taken before any
 * checkout exists: a sandbox's egress, whether `/agent run` can start); null when there
 * is none.
 */
export async function readRepoConfig(octokit: ProbotOctokit, owner: string, repo: string, ref: string): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path: REPO_CONFIG_PATH, ref });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return null;
    return Buffer.from(data.content, "base64").toString("utf8");
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}
