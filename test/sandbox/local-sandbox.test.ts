import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hostRustupHome } from "../../src/sandbox/local-env.ts";
import { JobError } from "../../src/job-error.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox, SandboxLimits, SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { missingToolchain } from "../support/toolchains.ts";
import { livingGroupMembers, processesWith, waitUntil } from "./processes.ts";
import { HANG_MS } from "../support/patience.ts";

const noLimits: SandboxLimits = { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 };

let rootDir: string;
let provider: SandboxProvider;
const sandboxes: Sandbox[] = [];

async function createSandbox(limits = noLimits, env?: Record<string, string>): Promise<Sandbox> {
  const sandbox = await provider.create({ jobId: "job-1", limits, env });
  sandboxes.push(sandbox);
  return sandbox;
}

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), "local-sandbox-test-"));
  provider = createLocalSandboxProvider({ rootDir });
});
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.destroy()));
});
afterAll(async () => {
  await rm(rootDir, { recursive: true, force: true });
});

describe("local sandbox", () => {
  it("lays out workspace, home and tmp under the root", async () => {
    const sandbox = await createSandbox();
    expect(provider.name).toBe("local");
    expect(sandbox.workdir).toBe(join(rootDir, sandbox.id, "workspace"));
    expect(sandbox.home).toBe(join(rootDir, sandbox.id, "home"));
    expect(existsSync(join(rootDir, sandbox.id, "tmp"))).toBe(true);
    expect(await sandbox.urlOf(4321)).toBe("http://127.0.0.1:4321");
  });

  it("gives commands the allow-listed environment, never the worker's", async () => {
    process.env.RUNNING_AGENT_TEST_SECRET = "hunter2-secret";
    try {
      const sandbox = await createSandbox(noLimits, { FROM_CREATE: "yes" });
      const result = await sandbox.exec(["env"], { env: { FROM_EXEC: "also" } });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain("hunter2-secret");
      const env = Object.fromEntries(result.stdout.trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
      expect(env).toMatchObject({
        HOME: sandbox.home,
        TMPDIR: join(dirname(sandbox.home), "tmp"),
        XDG_CONFIG_HOME: join(sandbox.home, ".config"),
        LANG: "C.UTF-8",
        CI: "true",
        GIT_TERMINAL_PROMPT: "0",
        GIT_CONFIG_NOSYSTEM: "1",
        FROM_CREATE: "yes",
        FROM_EXEC: "also",
      });
      expect(env.PATH?.split(":")[0]).toBe(dirname(process.execPath));
      const rustup = hostRustupHome() ? ["RUSTUP_HOME"] : [];
      expect(Object.keys(env).sort()).toEqual([
        "CI",
        "FROM_CREATE",
        "FROM_EXEC",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_TERMINAL_PROMPT",
        "HOME",
        "LANG",
        "PATH",
        // bubblewrap's, for the directory it starts the command in.
        "PWD",
        ...rustup,
        "TMPDIR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
      ]);
    } finally {
      delete process.env.RUNNING_AGENT_TEST_SECRET;
    }
  });

  it("lets rustup's cargo find the host's toolchain, though HOME is the sandbox's", async (context) => {
    if (!hostRustupHome()) return context.skip("needs a rustup installation (~/.rustup or RUSTUP_HOME): Rust is an optional toolchain");
    const missing = missingToolchain("rust");
    if (missing) return context.skip(missing);
    const sandbox = await createSandbox(noLimits);
    const result = await sandbox.exec(["cargo", "--version"]);
    expect(result.stderr).not.toContain("could not choose a version");
    expect(result).toMatchObject({ exitCode: 0 });
  });

  it("runs commands to completion with exit code, stdout, stderr, stdin and cwd", async () => {
    const sandbox = await createSandbox();
    const failed = await sandbox.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(failed).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "err\n", timedOut: false });
    await sandbox.writeFile("sub/dir/file.txt", "x");
    const where = await sandbox.exec(["pwd"], { cwd: "sub/dir" });
    expect(where.stdout.trim()).toBe(join(sandbox.workdir, "sub/dir"));
    const echoed = await sandbox.exec(["cat"], { stdin: "from stdin" });
    expect(echoed.stdout).toBe("from stdin");
    await expect(sandbox.exec(["no-such-command-here"])).rejects.toBeInstanceOf(JobError);
  });

  it("keeps only the tail of a long output", async () => {
    const sandbox = await createSandbox();
    const result = await sandbox.exec(["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo END"]);
    expect(result.stdout.length).toBe(1024 * 1024);
    expect(result.stdout.endsWith("aEND\n")).toBe(true);
  });

  it("kills everything a command started when it times out", async () => {
    const sandbox = await createSandbox();
    const result = await sandbox.exec(["sh", "-c", "sleep 301 & sleep 302; wait"], { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(128 + 15);
    await waitUntil(() => processesWith("sleep 30").length === 0, HANG_MS, "child and grandchild to die");
  });

  it("does not wait for, nor leave behind, what a finished command started in the background", async () => {
    const sandbox = await createSandbox();
    const result = await sandbox.exec(["sh", "-c", "sleep 303 & setsid -f sleep 304; echo started"], { timeoutMs: 20_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: "started\n" });
    await waitUntil(() => processesWith("sleep 30").length === 0, HANG_MS, "the background sleeps to die");
  });

  it("applies the memory and CPU limits to commands", async () => {
    const sandbox = await createSandbox({ timeoutMs: 0, memoryMb: 2048, cpuSeconds: 1 });
    const shown = await sandbox.exec(["sh", "-c", "ulimit -v; ulimit -t"]);
    expect(shown.stdout.split("\n").slice(0, 2)).toEqual([String(2048 * 1024), "1"]);
    const spinning = await sandbox.exec(["sh", "-c", "while :; do :; done"], { timeoutMs: 20_000 });
    expect(spinning.timedOut).toBe(false);
    // sh sets soft and hard limits alike, so the kernel may send SIGKILL rather than SIGXCPU.
    expect([128 + 9, 128 + 24]).toContain(spinning.exitCode);
  });

  it("starts servers, waits for their output and kills their group", async () => {
    const sandbox = await createSandbox();
    const server = sandbox.spawn(["sh", "-c", "echo booting; echo listening on port 4567; sleep 300 & wait"]);
    const match = await server.waitForOutput(/listening on port (\d+)/, HANG_MS);
    expect(match[1]).toBe("4567");
    expect(server.output()).toContain("booting");
    await server.kill();
    expect(await server.exited).toBeNull();

    const quitter = sandbox.spawn(["sh", "-c", "echo bye"]);
    await expect(quitter.waitForOutput(/never printed/, HANG_MS)).rejects.toThrow(/exited/);
    const silent = sandbox.spawn(["sleep", "300"]);
    await expect(silent.waitForOutput(/never printed/, 100)).rejects.toThrow(/within 100 ms/);
    await silent.kill();
  });

  it("SIGKILLs a server that ignores SIGTERM", async () => {
    const sandbox = await createSandbox();
    const stubborn = sandbox.spawn(["sh", "-c", "trap '' TERM; echo armed; while :; do sleep 1; done"]);
    await stubborn.waitForOutput(/armed/, HANG_MS);
    await stubborn.kill();
    expect(await stubborn.exited).toBeNull();
  });

  it("destroys itself when its lifetime is over", async () => {
    const sandbox = await createSandbox({ timeoutMs: 300, memoryMb: 0, cpuSeconds: 0 });
    const server = sandbox.spawn(["sleep", "300"]);
    expect(await server.exited).toBeNull();
    await waitUntil(() => !existsSync(dirname(sandbox.workdir)), HANG_MS, "the sandbox directory to go");
  });

  it("destroy kills every process and removes the directory, twice safely", async () => {
    const sandbox = await createSandbox();
    const server = sandbox.spawn(["sh", "-c", "echo $$; sleep 300 & wait"]);
    const [pid] = await server.waitForOutput(/^\d+/m, HANG_MS);
    await sandbox.writeFile("file.txt", "content");
    expect(await sandbox.readFile("file.txt")).toBe("content");
    await sandbox.destroy();
    await sandbox.destroy();
    expect(existsSync(dirname(sandbox.workdir))).toBe(false);
    expect(await server.exited).toBeNull();
    await waitUntil(() => livingGroupMembers(Number(pid)).length === 0, HANG_MS, "the server's group to die");
    await expect(sandbox.exec(["true"])).rejects.toThrow(/destroyed/);
  });
});

describe("parking a sandbox for a follow-up", () => {
  it("stops its processes, keeps its files, and gives them back once", async () => {
    const sandbox = await createSandbox();
    await sandbox.writeFile("notes.txt", "kept\n");
    const server = sandbox.spawn(["sleep", "600"]);
    const id = await sandbox.park!();
    expect(await server.exited).toBeNull();
    await expect(sandbox.exec(["true"])).rejects.toThrow(JobError);

    const resumed = await provider.resume!(id, { jobId: "job-2", limits: noLimits });
    expect(resumed).not.toBeNull();
    sandboxes.push(resumed!);
    expect(resumed!.workdir).toBe(sandbox.workdir);
    expect(await resumed!.readFile("notes.txt")).toBe("kept\n");
    expect((await resumed!.exec(["cat", "notes.txt"])).stdout).toBe("kept\n");
    // Taken once: a second follow-up gets a fresh sandbox instead.
    expect(await provider.resume!(id, { jobId: "job-2", limits: noLimits })).toBeNull();
  });

  it("gives nothing back for an unknown, a destroyed or a hostile id", async () => {
    const sandbox = await createSandbox();
    const id = sandbox.id;
    await sandbox.destroy();
    for (const candidate of [id, "no-such-sandbox-00000000", "../../etc-00000000", ""]) {
      expect(await provider.resume!(candidate, { jobId: "job-2", limits: noLimits })).toBeNull();
    }
  });
});
