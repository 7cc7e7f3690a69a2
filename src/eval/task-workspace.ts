/**
 * The files around an eval task's job: its repository, made from the suite's `repo/` or
 * `repo.bundle`, and its grading, on a clean checkout of what the job left with `hidden/`
 * copied in. The check runs in a sandbox-like environment (an allow-list with a fresh
 * HOME): it runs the agent's code, which must not read the runner's secrets either.
 */
import { execFile } from "node:child_process";
import { cp, mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { buildLocalEnv, hostRustupHome } from "../sandbox/local-env.ts";
import { startLocalProcess } from "../sandbox/local-process.ts";
import type { EvalTask } from "./suite.ts";

const execGit = promisify(execFile);

/** A check's limit when the task sets none. */
export const DEFAULT_CHECK_TIMEOUT_SECONDS = 300;

/** The seed commit's author: the repository is the suite's, not anyone's. */
const SEED_IDENTITY = ["-c", "user.name=Eval Seed", "-c", "user.email=eval@localhost", "-c", "commit.gpgsign=false"];

/** The task's repository at `dir`, on its default branch (`main` for a folder), with a working tree. Returns `dir`. */
export async function materializeRepository(task: Pick<EvalTask, "repo">, dir: string): Promise<string> {
  if (task.repo.kind === "bundle") {
    await git(path.dirname(dir), ["clone", "--quiet", task.repo.path, dir]);
    return dir;
  }
  // Dot-files included (.gitignore, .github/agent.yml): cp copies a folder as it is.
  await cp(task.repo.path, dir, { recursive: true });
  await git(dir, ["init", "--quiet", "--initial-branch", "main"]);
  await git(dir, ["add", "--all"]);
  await git(dir, [...SEED_IDENTITY, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", "Eval task repository"]);
  return dir;
}

/**
 * Run the task's check on `ref` of `repo` (the agent's branch, or the base commit): a fresh
 * clone under `work`, `hidden/` over it, `bash -c <check>` there. Success is exit 0; the
 * output is stdout and stderr as they came. Never throws.
 */
export async function gradeTask(task: Pick<EvalTask, "check" | "hiddenDir" | "timeoutSeconds">, repo: string, ref: string, work: string): Promise<{ success: boolean; output: string }> {
  const checkout = path.join(work, "checkout");
  try {
    const commit = (await git(repo, ["rev-parse", "--verify", `${ref}^{commit}`])).trim();
    await git(work, ["clone", "--quiet", "--no-checkout", repo, checkout]);
    await git(checkout, ["checkout", "--quiet", "--detach", commit]);
    if (task.hiddenDir) await cp(task.hiddenDir, checkout, { recursive: true });
  } catch (error) {
    return { success: false, output: `the check did not run: the checkout of ${ref} failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  return runCheck(task.check, checkout, work, (task.timeoutSeconds ?? DEFAULT_CHECK_TIMEOUT_SECONDS) * 1000);
}

async function runCheck(check: string, cwd: string, work: string, timeoutMs: number): Promise<{ success: boolean; output: string }> {
  const home = path.join(work, "check-home");
  const tmp = path.join(work, "check-tmp");
  await Promise.all([mkdir(home, { recursive: true }), mkdir(tmp, { recursive: true })]);
  const env = buildLocalEnv({ home, tmp, hostPath: process.env.PATH, execPath: process.execPath, rustupHome: hostRustupHome() });
  const child = startLocalProcess(["bash", "-c", check], { cwd, env });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const exit = await Promise.race([child.exited, timedOut]);
    if (exit === "timeout") {
      await child.kill();
      await child.closed;
      return { success: false, output: `${child.output()}\n[the check was stopped after ${Math.round(timeoutMs / 1000)} s]` };
    }
    await child.closed;
    return { success: exit === 0, output: child.output() };
  } catch (error) {
    return { success: false, output: `the check did not run: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    clearTimeout(timer);
    // Whatever the check started in the background (a server, a watcher) ends with it.
    child.reapGroup();
  }
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execGit("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
  return stdout;
}
