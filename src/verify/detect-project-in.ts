import type { Sandbox } from "../sandbox/sandbox.ts";
import { detectProject, PROJECT_FILES_TO_READ, type ProjectInfo } from "./detect-project.ts";

/** Read the files project detection looks at from the sandbox's checkout, then detect. */
export async function detectProjectIn(sandbox: Sandbox): Promise<ProjectInfo> {
  const listing = await sandbox.exec(["git", "ls-files", "--", ...PROJECT_FILES_TO_READ]);
  const present = listing.stdout.split("\n").filter((line) => line !== "");
  const files = new Map<string, string | null>();
  for (const file of present) {
    files.set(file, await sandbox.readFile(`${sandbox.workdir}/${file}`).catch(() => null));
  }
  return detectProject(files);
}
