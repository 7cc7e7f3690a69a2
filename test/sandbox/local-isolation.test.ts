import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox, SandboxLimits, SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { processesWith, waitUntil } from "./processes.ts";

const noLimits: SandboxLimits = { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 };
const CANARY = "worker-secret-canary-5f1d2c";

let dataDir: string;
let provider: SandboxProvider;
let worker: ChildProcess;
const sandboxes: Sandbox[] = [];

async function createSandbox(jobId = "job-1"): Promise<Sandbox> {
  const sandbox = await provider.create({ jobId, limits: noLimits });
  sandboxes.push(sandbox);
  return sandbox;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "local-isolation-"));
  await chmod(dataDir, 0o755);
  await mkdir(join(dataDir, "mirrors", "42.git"), { recursive: true });
  await writeFile(join(dataDir, "mirrors", "42.git", "HEAD"), "ref: refs/heads/main\n");
  provider = createLocalSandboxProvider({ rootDir: join(dataDir, "sandboxes"), dataDir });
  // Stands in for the worker process (or another job's opencode): a secret in its environment.
  worker = spawn("sleep", ["300"], { env: { PATH: process.env.PATH, PRIVATE_KEY: CANARY }, stdio: "ignore" });
});
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.destroy()));
});
afterAll(async () => {
  worker.kill("SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
});

describe("the local sandbox keeps its processes away from the host's", () => {
  it("shows a command none of the host's processes: no other environment can be read", async () => {
    const sandbox = await createSandbox();
    const result = await sandbox.exec(["sh", "-c", "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$f\"; done 2>/dev/null; echo DONE"]);
    expect(result.stdout).toContain("DONE");
    expect(result.stdout).not.toContain(CANARY);
    expect(result.stdout).not.toContain(`PRIVATE_KEY`);
  });

  it("leaves nothing running after destroy, not even a process that left the session with setsid", async () => {
    const sandbox = await createSandbox();
    const server = sandbox.spawn(["sh", "-c", "setsid -f sleep 8761; echo started; sleep 300"]);
    await server.waitForOutput(/started/, 30_000);
    await sandbox.exec(["sh", "-c", "setsid -f sleep 8762; true"]);
    await sandbox.destroy();
    await waitUntil(() => processesWith("sleep 876").length === 0, 10_000, "the setsid survivors to be gone").catch(() => undefined);
    expect(processesWith("sleep 876")).toEqual([]);
  });
});

describe("the local sandbox's file system", () => {
  it("writes only to its own workspace, HOME and tmp: not the host, not another job's sandbox, not the mirrors", async () => {
    const victim = await createSandbox("job-victim");
    const attacker = await createSandbox("job-attacker");
    const targets = [join(victim.workdir, "pwned"), join(dataDir, "mirrors", "42.git", "pwned"), join(dataDir, "pwned"), "/etc/pwned-by-sandbox", join(tmpdir(), "pwned-by-sandbox")];
    const script = targets.map((target) => `echo x > '${target}' 2>/dev/null; true`).join("; ");
    const result = await attacker.exec(["sh", "-c", `${script}; echo ok > "$HOME/mine" && echo ok > "$TMPDIR/mine" && echo ok > ./mine && echo WROTE`]);
    expect(result.stdout).toContain("WROTE");
    for (const target of targets) expect(existsSync(target), target).toBe(false);
  });

  it("sees nothing of the data directory but its own", async () => {
    await createSandbox("job-other");
    const sandbox = await createSandbox("job-self");
    const result = await sandbox.exec(["sh", "-c", `ls -a '${dataDir}' '${join(dataDir, "sandboxes")}' '${join(dataDir, "mirrors")}' 2>&1; true`]);
    expect(result.stdout).not.toContain("job-other");
    expect(result.stdout).not.toContain("42.git");
  });
});
