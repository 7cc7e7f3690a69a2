import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface LocalRepository {
  /** The working tree: what a user runs `running-agent run --repo` on. */
  dir: string;
  git(...args: string[]): string;
  cleanup(): Promise<void>;
}

/** A repository with a working tree, `files` committed on `branch`, as on a user's machine. */
export async function createLocalRepository(files: Record<string, string>, branch = "main"): Promise<LocalRepository> {
  const root = await mkdtemp(path.join(os.tmpdir(), "ra-local-"));
  await chmod(root, 0o755);
  const dir = path.join(root, "project");
  await mkdir(dir);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
  git("init", "--quiet", "--initial-branch", branch);
  git("config", "user.name", "Ada");
  git("config", "user.email", "ada@example.com");
  await writeFiles(dir, files);
  git("add", "--all");
  git("commit", "--quiet", "-m", "Initial commit");
  return { dir, git, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
}
