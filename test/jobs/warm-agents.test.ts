import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { OpencodeServer } from "../../src/agent/opencode-server.ts";
import type { WorkerSettings } from "../../src/jobs/run-job.ts";
import { startWarmAgents, type WarmAgents } from "../../src/jobs/warm-agents.ts";
import type { Sandbox, SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { waitUntil } from "../support/wait-until.ts";

const log = pino({ level: "silent" });
const settings = {
  models: { explore: "p/explore", plan: "p/plan", build: "p/build" },
  opencodeExtraConfig: {},
  limits: { timeoutMs: 60_000, memoryMb: 0, cpuSeconds: 0 },
  gateway: null,
} as unknown as WorkerSettings;

/** Sandboxes that record what happens to them; servers that start when the test says. */
function fakes() {
  const made: Array<{ id: string; destroyed: boolean; files: Map<string, string>; limits: unknown }> = [];
  const servers: Array<{ resolve: (server: OpencodeServer) => void; reject: (error: Error) => void; options: { warmUpDirectory?: string; config: unknown } }> = [];
  const provider: SandboxProvider = {
    name: "local",
    create: () => Promise.reject(new Error("a spare is made with createSpare")),
    async createSpare({ limits }) {
      const record = { id: `spare-${made.length}`, destroyed: false, files: new Map<string, string>(), limits };
      made.push(record);
      return {
        id: record.id,
        workdir: `/sandbox/${record.id}/workspace`,
        home: `/sandbox/${record.id}/home`,
        exec: async () => ({ exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 1 }),
        writeFile: async (path: string, content: string | Uint8Array) => void record.files.set(path, String(content)),
        destroy: async () => {
          record.destroyed = true;
        },
      } as unknown as Sandbox;
    },
  };
  const startServer = ((_sandbox: Sandbox, options: { warmUpDirectory?: string; config: unknown }) =>
    new Promise<OpencodeServer>((resolve, reject) => servers.push({ resolve, reject, options }))) as never;
  return { made, servers, provider, startServer };
}

const server = { stop: async () => {} } as unknown as OpencodeServer;
let pool: WarmAgents | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe("warm agents", () => {
  it("keeps one started, gives it to the next job, and warms another behind it", async () => {
    const { made, servers, provider, startServer } = fakes();
    pool = startWarmAgents({ provider, count: 1, settings, log, startServer, refillDelayMs: 10 });
    await waitUntil(() => servers.length === 1, { what: "the first spare's server to start" });
    // Warmed on a directory of its own: the workdir's config is read only once its job is there.
    expect(servers[0]!.options.warmUpDirectory).toBe("/sandbox/spare-0/home/warm-up");
    // It lives a job's whole lifetime after it is taken, however long it waited.
    expect((made[0]!.limits as { timeoutMs: number }).timeoutMs).toBeGreaterThan(settings.limits.timeoutMs);
    servers[0]!.resolve(server);

    const taken = pool.take();
    expect(taken?.sandbox.id).toBe("spare-0");
    expect(taken?.tokenFile).toBeNull();
    expect(await taken!.server).toBe(server);
    // The next is made a moment later (not during the taker's own start), and never handed out twice.
    await waitUntil(() => made.length === 2, { what: "a spare to replace the taken one" });
    expect(pool.take()?.sandbox.id).toBe("spare-1");
    expect(made[0]!.destroyed).toBe(false);
  });

  it("gives nothing when none is on hand: the job starts its own", async () => {
    const { provider, startServer } = fakes();
    pool = startWarmAgents({ provider, count: 0, settings, log, startServer });
    expect(pool.take()).toBeNull();
    const withoutSpares: SandboxProvider = { name: "e2b", create: provider.create };
    const elsewhere = startWarmAgents({ provider: withoutSpares, count: 2, settings, log, startServer });
    expect(elsewhere.take()).toBeNull();
    expect(elsewhere.size).toBe(0);
    await elsewhere.close();
  });

  it("with the gateway, points the server at a token file the job fills, and never at a token", async () => {
    const { made, servers, provider, startServer } = fakes();
    const gateway = { url: "http://127.0.0.1:3000", providers: { anthropic: { version: "v1" } } };
    pool = startWarmAgents({ provider, count: 1, settings: { ...settings, gateway }, log, startServer });
    await waitUntil(() => servers.length === 1, { what: "the spare's server to start" });
    const tokenFile = "/sandbox/spare-0/home/gateway-token";
    expect(made[0]!.files.get(tokenFile)).toBe("no-job-yet");
    expect(JSON.stringify(servers[0]!.options.config)).toContain(`"apiKey":"{file:${tokenFile}}"`);
    expect(pool.take()?.tokenFile).toBe(tokenFile);
  });

  it("drops a spare whose opencode does not start, waits before the next, and leaves a taken one's sandbox to its job", async () => {
    const { made, servers, provider, startServer } = fakes();
    pool = startWarmAgents({ provider, count: 1, settings, log, startServer, refillDelayMs: 10 });
    await waitUntil(() => servers.length === 1, { what: "the first spare's server to start" });
    servers[0]!.reject(new Error("opencode exited"));
    await waitUntil(() => made[0]!.destroyed, { what: "the broken spare to be destroyed" });
    expect(pool.take()).toBeNull();
    // No second attempt at once: a broken opencode must not spin.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(made).toHaveLength(1);
    expect(pool.size).toBe(0);
    await pool.close();

    // Taken while starting, then failing: the failure is the job's (its server), and so is the sandbox.
    const second = fakes();
    pool = startWarmAgents({ provider: second.provider, count: 1, settings, log, startServer: second.startServer, refillDelayMs: 60_000 });
    await waitUntil(() => second.servers.length === 1, { what: "the spare's server to start" });
    const taken = pool.take()!;
    second.servers[0]!.reject(new Error("opencode exited"));
    await expect(taken.server).rejects.toThrow("opencode exited");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second.made[0]!.destroyed).toBe(false);
  });

  it("closed while a spare is still being made: that one is destroyed, never offered, and nothing fails unhandled", async () => {
    const { made, servers, provider, startServer } = fakes();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: SandboxProvider = {
      ...provider,
      async createSpare(options) {
        const sandbox = await provider.createSpare!(options);
        return { ...sandbox, exec: async (...args: Parameters<Sandbox["exec"]>) => gate.then(() => sandbox.exec(...args)) };
      },
    };
    pool = startWarmAgents({ provider: slow, count: 1, settings, log, startServer });
    await waitUntil(() => made.length === 1, { what: "the spare's sandbox to be made" });
    const closing = pool.close();
    release();
    await closing;
    await waitUntil(() => made[0]!.destroyed, { what: "the unoffered spare to be destroyed" });
    expect(servers).toHaveLength(0);
    expect(pool.take()).toBeNull();
  });

  it("destroys its spares when closed, and makes none after", async () => {
    const { made, servers, provider, startServer } = fakes();
    pool = startWarmAgents({ provider, count: 2, settings, log, startServer });
    await waitUntil(() => servers.length === 2, { what: "two spares" });
    await pool.close();
    expect(made.map((record) => record.destroyed)).toEqual([true, true]);
    expect(pool.take()).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(made).toHaveLength(2);
  });
});
