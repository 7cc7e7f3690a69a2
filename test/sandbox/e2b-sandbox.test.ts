import { spawnSync } from "node:child_process";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobError } from "../../src/job-error.ts";
import { reapE2bSandboxes } from "../../src/sandbox/e2b-reap.ts";
import { createE2bSandboxProvider, e2bWorkdir, type E2bProviderOptions, type E2bSandbox } from "../../src/sandbox/e2b-sandbox.ts";
import type { SandboxLimits } from "../../src/sandbox/sandbox.ts";
import { startFakeE2b, type FakeE2b } from "../fakes/fake-e2b.ts";

const limits: SandboxLimits = { timeoutMs: 30 * 60_000, memoryMb: 0, cpuSeconds: 0 };
const log = pino({ level: "silent" });

let fake: FakeE2b;
const sandboxes: E2bSandbox[] = [];

function providerOptions(extra: Partial<E2bProviderOptions> = {}): E2bProviderOptions {
  return { apiKey: fake.apiKey, template: "running-agent-test", apiUrl: fake.url, sandboxUrl: fake.url, log, ...extra };
}

async function createSandbox(extra: Partial<E2bProviderOptions> = {}, env?: Record<string, string>): Promise<E2bSandbox> {
  const sandbox = await createE2bSandboxProvider(providerOptions(extra)).create({ jobId: "job-1", limits, env });
  sandboxes.push(sandbox);
  return sandbox;
}

/** Runs the script a command got with the host's bash: its quoting, for real. */
function runOnHost(script: string): { stdout: string; status: number | null } {
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  return { stdout: result.stdout, status: result.status };
}

beforeAll(async () => {
  fake = await startFakeE2b();
});
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.destroy()));
  fake.requests.length = 0;
  fake.commands.length = 0;
  fake.onCommand = (_command, process) => process.exit(0);
});
afterAll(async () => {
  await fake.close();
});

describe("E2B provider: the control plane", () => {
  it("creates from the template with the job's lifetime, our metadata, no envs and the egress allow-list", async () => {
    const sandbox = await createSandbox({ egress: { allow: ["registry.npmjs.org", "*.googleapis.com"] }, lifetimeMarginMs: 60_000 }, { SECRET_LOOKING: "x" });
    const create = fake.requests.find((request) => request.method === "POST" && request.path === "/v2/sandboxes");
    expect(create?.headers["x-api-key"]).toBe(fake.apiKey);
    expect(create?.body).toMatchObject({
      templateID: "running-agent-test",
      timeout: (limits.timeoutMs + 60_000) / 1000,
      metadata: { jobId: "job-1", app: "running-agent" },
      envVars: {},
      network: { allowPublicTraffic: false, allowOut: ["registry.npmjs.org", "*.googleapis.com"], denyOut: ["0.0.0.0/0"] },
      autoPause: false,
    });
    expect(JSON.stringify(create?.body)).not.toContain("SECRET_LOOKING");
    expect(sandbox.id).toBe(fake.sandboxes.values().next().value?.sandboxID);
    expect(sandbox.workdir).toBe("/home/user/workspace");
    expect(sandbox.home).toBe("/home/user");
    expect(fake.sandboxes.get(sandbox.id)?.dirs.has(e2bWorkdir)).toBe(true);
  });

  it("adds the hosts a repository was granted to the allow-list, for that sandbox only", async () => {
    const provider = createE2bSandboxProvider(providerOptions({ egress: { allow: ["registry.npmjs.org"] } }));
    sandboxes.push(await provider.create({ jobId: "job-1", limits, egress: ["registry.example.com", "registry.npmjs.org"] }));
    sandboxes.push(await provider.create({ jobId: "job-2", limits }));
    const creates = fake.requests.filter((request) => request.method === "POST" && request.path === "/v2/sandboxes");
    expect(creates.map((request) => (request.body as { network?: { allowOut?: string[] } }).network?.allowOut)).toEqual([
      ["registry.npmjs.org", "registry.example.com"],
      ["registry.npmjs.org"],
    ]);
  });

  it("leaves egress as E2B's default without an allow-list, and ports private to holders of the traffic token", async () => {
    const sandbox = await createSandbox();
    const create = fake.requests.find((request) => request.path === "/v2/sandboxes");
    expect((create?.body as { network?: unknown }).network).toEqual({ allowPublicTraffic: false });
    expect(create?.body).not.toHaveProperty("allow_internet_access");
    expect(sandbox.requestHeaders?.()).toEqual({ "e2b-traffic-access-token": fake.sandboxes.get(sandbox.id)?.trafficAccessToken });
  });

  it("reports a rejected API key", async () => {
    await expect(createSandbox({ apiKey: "e2b_wrong" })).rejects.toThrow(/Unauthorized/);
  });

  it("kills the sandbox once, however often it is destroyed, and refuses work afterwards", async () => {
    const sandbox = await createSandbox();
    await Promise.all([sandbox.destroy(), sandbox.destroy()]);
    await sandbox.destroy();
    expect(fake.requests.filter((request) => request.method === "DELETE")).toHaveLength(1);
    expect(fake.sandboxes.has(sandbox.id)).toBe(false);
    await expect(sandbox.exec(["true"])).rejects.toBeInstanceOf(JobError);
  });

  it("pauses for a follow-up, after which destroy leaves the sandbox alone", async () => {
    const sandbox = await createSandbox();
    expect(await sandbox.pauseForFollowUp()).toBe(sandbox.id);
    expect(await sandbox.pauseForFollowUp()).toBe(sandbox.id);
    await sandbox.destroy();
    expect(fake.requests.filter((request) => request.path === `/sandboxes/${sandbox.id}/pause`)).toHaveLength(1);
    expect(fake.requests.filter((request) => request.method === "DELETE")).toHaveLength(0);
    expect(fake.sandboxes.get(sandbox.id)?.state).toBe("paused");
    fake.sandboxes.delete(sandbox.id);
  });

  it("parks by pausing, and resumes the paused VM with a fresh lifetime for the follow-up's job", async () => {
    const provider = createE2bSandboxProvider(providerOptions());
    const sandbox = await createSandbox();
    await sandbox.writeFile("notes.txt", "kept");
    const id = await sandbox.park!();
    expect(fake.sandboxes.get(id)?.state).toBe("paused");

    const resumed = await provider.resume!(id, { jobId: "job-2", limits });
    expect(resumed?.id).toBe(id);
    sandboxes.push(resumed!);
    expect(fake.sandboxes.get(id)?.state).toBe("running");
    expect(fake.sandboxes.get(id)?.connected).toMatchObject({ timeout: Math.ceil((limits.timeoutMs + 5 * 60_000) / 1000) });
    expect(await resumed!.readFile("notes.txt")).toBe("kept");
  });

  it("resumes nothing that E2B no longer has", async () => {
    const provider = createE2bSandboxProvider(providerOptions());
    expect(await provider.resume!("sbx-gone", { jobId: "job-2", limits })).toBeNull();
  });

  it("does not pause a sandbox already destroyed", async () => {
    const sandbox = await createSandbox();
    await sandbox.destroy();
    expect(await sandbox.pauseForFollowUp()).toBeNull();
    expect(fake.requests.some((request) => request.path.endsWith("/pause"))).toBe(false);
  });

  it("gives the opencode port an https URL on E2B's edge", async () => {
    const sandbox = await createSandbox({ domain: "e2b.example" });
    expect(await sandbox.urlOf(4096)).toBe(`https://4096-${sandbox.id}.e2b.example`);
  });
});

describe("E2B provider: commands", () => {
  it("runs argv quoted for bash, in the workdir, with the base environment", async () => {
    fake.onCommand = (command, process) => {
      const host = runOnHost(command.script);
      process.stdout(host.stdout);
      process.exit(host.status ?? 1);
    };
    const sandbox = await createSandbox({}, { FROM_CREATE: "yes" });
    const result = await sandbox.exec(["printf", "%s|", "a b", "it's", "$HOME", "`x`"], { cwd: "sub", env: { FROM_EXEC: "also" } });
    expect(result).toMatchObject({ exitCode: 0, stdout: "a b|it's|$HOME|`x`|", stderr: "", timedOut: false });
    const [command] = fake.commands;
    expect(command).toMatchObject({ cmd: "/bin/bash", cwd: "/home/user/workspace/sub" });
    expect(command?.args.slice(0, 2)).toEqual(["-l", "-c"]);
    expect(command?.envs).toMatchObject({ HOME: "/home/user", XDG_CONFIG_HOME: "/home/user/.config", CI: "true", FROM_CREATE: "yes", FROM_EXEC: "also" });
  });

  it("returns a non-zero exit with its output instead of throwing", async () => {
    fake.onCommand = (_command, process) => {
      process.stdout("some out\n");
      process.stderr("error: it broke\n");
      process.exit(3);
    };
    const sandbox = await createSandbox();
    const result = await sandbox.exec(["npm", "test"]);
    expect(result).toMatchObject({ exitCode: 3, stdout: "some out\n", stderr: "error: it broke\n", timedOut: false });
  });

  it("feeds stdin from a temporary file that is gone afterwards", async () => {
    let seen: string | undefined;
    fake.onCommand = (command, process) => {
      const path = /< '(\/tmp\/running-agent-stdin-[0-9a-f]+)'$/.exec(command.script)?.[1];
      seen = path === undefined ? undefined : fake.sandboxes.get(command.sandboxId)?.files.get(path)?.toString("utf8");
      process.stdout(seen ?? "");
      process.exit(0);
    };
    const sandbox = await createSandbox();
    const result = await sandbox.exec(["cat"], { stdin: "line one\nline two\n" });
    expect(seen).toBe("line one\nline two\n");
    expect(result.stdout).toBe("line one\nline two\n");
    expect([...(fake.sandboxes.get(sandbox.id)?.files.keys() ?? [])]).toEqual([]);
  });

  it("gives commands no stdin when none is given", async () => {
    const sandbox = await createSandbox();
    await sandbox.exec(["cat"]);
    expect(fake.commands[0]?.script).toBe("exec 'cat' < '/dev/null'");
  });

  it("kills a command at its timeout and keeps what it printed", async () => {
    fake.onCommand = (_command, process) => process.stdout("working…\n");
    const sandbox = await createSandbox();
    const result = await sandbox.exec(["sleep", "100"], { timeoutMs: 300 });
    expect(result).toMatchObject({ exitCode: 137, stdout: "working…\n", timedOut: true });
    expect(fake.requests.filter((request) => request.path === "/process.Process/SendSignal")).toHaveLength(1);
    expect(fake.requests.find((request) => request.path === "/process.Process/SendSignal")?.body).toMatchObject({ signal: "SIGNAL_SIGKILL" });
  });

  it("writes and reads files relative to the workdir", async () => {
    const sandbox = await createSandbox();
    await sandbox.writeFile("notes/plan.md", "# Plan\nçà et là\n");
    expect(fake.sandboxes.get(sandbox.id)?.files.get("/home/user/workspace/notes/plan.md")?.toString("utf8")).toBe("# Plan\nçà et là\n");
    expect(await sandbox.readFile("notes/plan.md")).toBe("# Plan\nçà et là\n");
    expect(await sandbox.readFile("/home/user/workspace/notes/plan.md")).toBe("# Plan\nçà et là\n");
    await expect(sandbox.readFile("missing.txt")).rejects.toThrow(/does not exist/);
  });

  it("carries bytes both ways (a bundle of commits), and refuses one larger than asked for before downloading it", async () => {
    const sandbox = await createSandbox();
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0x80, 0xc3]);
    await sandbox.writeFile(".git/in.bundle", bytes);
    expect(fake.sandboxes.get(sandbox.id)?.files.get("/home/user/workspace/.git/in.bundle")).toEqual(bytes);
    expect(await sandbox.readBytes(".git/in.bundle", 1024)).toEqual(bytes);
    const downloads = () => fake.requests.filter((request) => request.path === "/files" && request.method === "GET").length;
    const before = downloads();
    await expect(sandbox.readBytes(".git/in.bundle", 4)).rejects.toThrow(/8 bytes, more than the 4/);
    expect(downloads()).toBe(before);
  });
});

describe("E2B provider: servers", () => {
  it("buffers a server's output, finds its listening line, and kills it", async () => {
    let started: { pid: number; stdout(text: string): void } | undefined;
    fake.onCommand = (_command, process) => {
      started = process;
      process.stderr("booting\n");
    };
    const sandbox = await createSandbox();
    const server = sandbox.spawn(["opencode", "serve", "--hostname", "0.0.0.0", "--port", "4096"], { env: { OPENCODE_SERVER_PASSWORD: "pw" } });
    const listening = server.waitForOutput(/opencode server listening on (https?:\/\/\S+)/, 5_000);
    await expect.poll(() => started).toBeDefined();
    started?.stdout("opencode server listening on http://0.0.0.0:4096\n");
    expect((await listening)[1]).toBe("http://0.0.0.0:4096");
    expect(server.output()).toBe("booting\nopencode server listening on http://0.0.0.0:4096\n");
    expect(fake.commands[0]?.envs.OPENCODE_SERVER_PASSWORD).toBe("pw");
    await server.kill();
    expect(await server.exited).toBeNull();
    await server.kill();
    expect(fake.requests.filter((request) => request.path === "/process.Process/SendSignal")).toHaveLength(1);
  });

  it("rejects a wait when the server exits first, with its exit code", async () => {
    fake.onCommand = (_command, process) => {
      process.stderr("Error: port in use\n");
      process.exit(1);
    };
    const sandbox = await createSandbox();
    const server = sandbox.spawn(["opencode", "serve"]);
    await expect(server.waitForOutput(/listening/, 5_000)).rejects.toThrow(/exited before printing/);
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain("port in use");
  });

  it("rejects a wait at its deadline", async () => {
    fake.onCommand = () => undefined;
    const sandbox = await createSandbox();
    const server = sandbox.spawn(["opencode", "serve"]);
    await expect(server.waitForOutput(/listening/, 200)).rejects.toThrow(/within 200 ms/);
    await server.kill();
  });

  it("ends a server's stream when the sandbox is destroyed", async () => {
    fake.onCommand = () => undefined;
    const sandbox = await createSandbox();
    const server = sandbox.spawn(["opencode", "serve"]);
    await expect.poll(() => fake.commands.length).toBe(1);
    await sandbox.destroy();
    expect(await server.exited).toBeNull();
  });
});

describe("reapE2bSandboxes", () => {
  it("kills our running sandboxes whose job ended and paused ones past their keep time, nothing else", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const old = new Date(now.getTime() - 8 * 24 * 3_600_000).toISOString();
    fake.seed({ sandboxID: "ended", metadata: { app: "running-agent", jobId: "job-ended" } });
    fake.seed({ sandboxID: "running", metadata: { app: "running-agent", jobId: "job-running" } });
    fake.seed({ sandboxID: "no-job", metadata: { app: "running-agent" } });
    fake.seed({ sandboxID: "someone-else", metadata: { app: "other", jobId: "job-ended" } });
    fake.seed({ sandboxID: "paused-old", metadata: { app: "running-agent", jobId: "job-ended" }, state: "paused", startedAt: old });
    fake.seed({ sandboxID: "paused-new", metadata: { app: "running-agent", jobId: "job-ended" }, state: "paused", startedAt: now.toISOString() });
    const asked: string[] = [];
    const killed = await reapE2bSandboxes({
      apiKey: fake.apiKey,
      apiUrl: fake.url,
      now,
      isJobEnded: async (jobId) => (asked.push(jobId), jobId !== "job-running"),
    });
    expect(killed.sort()).toEqual(["ended", "no-job", "paused-old"]);
    expect(asked.sort()).toEqual(["job-ended", "job-running"]);
    expect([...fake.sandboxes.keys()].sort()).toEqual(["paused-new", "running", "someone-else"]);
    const list = fake.requests.find((request) => request.method === "GET" && request.path === "/v2/sandboxes");
    expect(new URLSearchParams(list?.query.metadata).get("app")).toBe("running-agent");
    fake.sandboxes.clear();
  });

  it("keeps a sandbox a job holds, though the job that created it has ended", async () => {
    const old = new Date(Date.now() - 30 * 24 * 3_600_000).toISOString();
    fake.seed({ sandboxID: "resumed", metadata: { app: "running-agent", jobId: "job-ended" } });
    fake.seed({ sandboxID: "offered", metadata: { app: "running-agent", jobId: "job-ended" }, state: "paused", startedAt: old });
    const killed = await reapE2bSandboxes({ apiKey: fake.apiKey, apiUrl: fake.url, isJobEnded: async () => true, isHeld: async (id) => id === "resumed" || id === "offered" });
    expect(killed).toEqual([]);
    expect([...fake.sandboxes.keys()].sort()).toEqual(["offered", "resumed"]);
    fake.sandboxes.clear();
  });
});

describe.skipIf(!process.env.E2B_API_KEY)("E2B provider, live", () => {
  it("creates a sandbox, runs echo, writes and reads a file, destroys it", async () => {
    const provider = createE2bSandboxProvider({ apiKey: process.env.E2B_API_KEY ?? "", template: process.env.E2B_TEMPLATE ?? "base", log });
    const sandbox = await provider.create({ jobId: `live-${Date.now()}`, limits: { timeoutMs: 120_000, memoryMb: 0, cpuSeconds: 0 } });
    try {
      const result = await sandbox.exec(["echo", "hello from e2b"]);
      expect(result).toMatchObject({ exitCode: 0, stdout: "hello from e2b\n", timedOut: false });
      expect((await sandbox.exec(["sh", "-c", "exit 4"])).exitCode).toBe(4);
      await sandbox.writeFile("dir/file.txt", "content\n");
      expect(await sandbox.readFile("dir/file.txt")).toBe("content\n");
      expect((await sandbox.exec(["cat"], { stdin: "piped\n" })).stdout).toBe("piped\n");
    } finally {
      await sandbox.destroy();
    }
  });
});
