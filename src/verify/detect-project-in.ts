import { parseRepoConfig, REPO_CONFIG_PATH } from "../config/repo-config.ts";
import { JobError } from "../job-error.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { applyCommandOverrides, detectProject, PROJECT_FILES_TO_READ, type ProjectInfo } from "./detect-project.ts";

/**
 * Read the files project detection looks at from the sandbox's checkout, detect, then
 * apply the commands `.github/agent.yml` declares. A broken agent.yml stops the job with
 * every problem and its line: guessing past it would run what the team did not ask for.
 */
export async function detectProjectIn(sandbox: Sandbox): Promise<ProjectInfo> {
  // Every top-level file (many count by being there: Cargo.toml, go.mod, lockfiles), plus the deeper ones detection reads.
  const toRead = [...PROJECT_FILES_TO_READ, REPO_CONFIG_PATH];
  const listing = await sandbox.exec(["git", "ls-files", "--", ":(glob)*", ...toRead]);
  const present = new Set(listing.stdout.split("\n").filter((line) => line !== ""));
  const files = new Map<string, string | null>();
  for (const file of present) files.set(file, toRead.includes(file) ? await sandbox.readFile(`${sandbox.workdir}/${file}`).catch(() => null) : null);
  const detected = detectProject(files);
  const configText = files.get(REPO_CONFIG_PATH);
  if (configText == null) return detected;
  const config = parseRepoConfig(configText);
  if (!config.ok) throw new JobError("config", `${REPO_CONFIG_PATH} is not valid:\n${config.errors.map((error) => `- ${error}`).join("\n")}`);
  return applyCommandOverrides(detected, config.config);
}
