import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { OpencodeServer } from "../../src/agent/opencode-server.ts";
import type { WorkerSettings } from "../../src/jobs/run-job.ts";
import { startWarmAgents, type RepositorySeed, type SpareTokens, type WarmAgents } from "../../src/jobs/warm-agents.ts";
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
  const made: Array<{ id: string; destroyed: boolean; files: Map<string, string>; limits: unknown; commands: string[][] }> = [];
  const servers: Array<{ resolve: (server: OpencodeServer) => void; reject: (error: Error) => void; sandbox: Sandbox; options: { bootWorkdir?: boolean; config: unknown } }> = [];
  const provider: SandboxProvider = {
    name: "local",
    create: () => Promise.reject(new Error("a spare is made with createSpare")),
    async createSpare({ limits }) {
      const record = { id: `spare-${made.length}`, destroyed: false, files: new Map<string, string>(), limits, commands: [] as string[][] };
      made.push(record);
      return {
        id: record.id,
        workdir: `/sandbox/${record.id}/workspace`,
        home: `/sandbox/${record.id}/home`,
        exec: async (command: string[]) => {
          record.commands.push(command);
          return { exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 1 };
        },
        writeFile: async (path: string, content: string | Uint8Array) => void record.files.set(path, String(content)),
        destroy: async () => {
          record.destroyed = true;
        },
      } as unknown as Sandbox;
    },
  };
  const startServer = ((sandbox: Sandbox, options: { bootWorkdir?: boolean; config: unknown }) =>
    new Promise<OpencodeServer>((resolve, reject) => servers.push({ resolve, reject, sandbox, options }))) as never;
  /** Checkouts made in spares, by sandbox id. */
  const checkouts = new Map<string, RepositorySeed>();
  const checkOut = async (sandbox: Sandbox, seed: RepositorySeed) => void checkouts.set(sandbox.id, seed);
  return { made, servers, provider, startServer, checkouts, checkOut };
}

const server = { stop: async () => {} } as unknown as OpencodeServer;
const repoA = { repoId: 1, cloneUrl: "https://github.com/octo/a.git" };
const repoB = { repoId: 2, cloneUrl: "https://github.com/octo/b.git" };
const seedOf = (repository: typeof repoA, sha = "a".repeat(40)): RepositorySeed => ({ ...repository, branch: "main", sha, objectsOf: "/data/mirrors/x.git" });
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
    // Booted in its workdir, an empty repository the job's clone fills.
    expect(made[0]!.commands).toEqual([["git", "init", "--quiet"]]);
    expect(servers[0]!.options.bootWorkdir).toBe(true);
    // It lives a job's whole lifetime after it is taken, however long it waited.
    expect((made[0]!.limits as { timeoutMs: number }).timeoutMs).toBeGreaterThan(settings.limits.timeoutMs);
    servers[0]!.resolve(server);

    const taken = pool.take(repoA);
    expect(taken?.sandbox.id).toBe("spare-0");
    expect(taken).toMatchObject({ gatewayToken: null, checkout: null });
    expect(await taken!.server).toBe(server);
    // The next is made a moment later (not during the taker's own start), and never handed out twice.
    await waitUntil(() => made.length === 2, { what: "a spare to replace the taken one" });
    expect(pool.take(repoA)?.sandbox.id).toBe("spare-1");
    expect(made[0]!.destroyed).toBe(false);
  });

  it("gives nothing when none is on hand: the job starts its own", async () => {
    const { provider, startServer } = fakes();
    pool = startWarmAgents({ provider, count: 0, settings, log, startServer });
    expect(pool.take(repoA)).toBeNull();
    const withoutSpares: SandboxProvider = { name: "e2b", create: provider.create };
    const elsewhere = startWarmAgents({ provider: withoutSpares, count: 2, settings, log, startServer });
    expect(elsewhere.take(repoA)).toBeNull();
    expect(elsewhere.size).toBe(0);
    await elsewhere.close();
  });

  it("with the gateway, puts a token of no job in the spare's config, and revokes it when the spare goes unused", async () => {
    const { servers, provider, startServer } = fakes();
    const gateway = { url: "http://127.0.0.1:3000", providers: { anthropic: { version: "v1" } } };
    const revoked: string[] = [];
    let issued = 0;
    const tokens: SpareTokens = {
      issue: async (ttlMs) => ({ token: `rag_spare-${++issued}`, tokenHash: `hash-${issued}`, expiresAt: new Date(Date.now() + ttlMs) }),
      revoke: async (tokenHash) => void revoked.push(tokenHash),
    };
    expect(() => startWarmAgents({ provider, count: 1, settings: { ...settings, gateway }, log, startServer })).toThrow("issue their tokens");
    pool = startWarmAgents({ provider, count: 2, settings: { ...settings, gateway }, log, startServer, tokens });
    await waitUntil(() => servers.length === 2, { what: "the spares' servers to start" });
    // Each its own token, written into its config: no file to fill, no token shared.
    expect(JSON.stringify(servers[0]!.options.config)).toContain('"apiKey":"rag_spare-1"');
    expect(JSON.stringify(servers[1]!.options.config)).toContain('"apiKey":"rag_spare-2"');
    expect(pool.take(repoA)?.gatewayToken).toMatchObject({ token: "rag_spare-1", tokenHash: "hash-1" });
    await pool.close();
    // The taken one's is its job's to bind and revoke; the other's is revoked with its spare.
    expect(revoked).toEqual(["hash-2"]);
  });

  it("after a job on a repository, makes its spares checkouts of it, booted there, and gives them to jobs on that repository only", async () => {
    const { made, servers, provider, startServer, checkouts, checkOut } = fakes();
    pool = startWarmAgents({ provider, count: 1, settings, log, startServer, checkOut, refillDelayMs: 10 });
    await waitUntil(() => servers.length === 1, { what: "the first (empty) spare" });
    servers[0]!.resolve(server);
    // The worker's first job takes the empty spare and checks its repository out.
    expect(pool.take(repoA)?.checkout).toBeNull();
    pool.remember(seedOf(repoA));
    await waitUntil(() => servers.length === 2, { what: "a spare of repository A" });
    expect(checkouts.get("spare-1")).toEqual(seedOf(repoA));
    // Booted in its workdir, where the checkout is.
    expect(servers[1]!.options).toMatchObject({ bootWorkdir: true });
    expect(made[1]!.commands).toEqual([]);

    // A job on another repository never gets it (nor a repository with A's id at another URL).
    expect(pool.take(repoB)).toBeNull();
    expect(pool.take({ ...repoA, cloneUrl: "https://github.com/evil/a.git" })).toBeNull();
    expect(made[1]!.destroyed).toBe(false);
    const taken = pool.take(repoA);
    expect(taken).toMatchObject({ checkout: seedOf(repoA) });
    expect(taken?.sandbox.id).toBe("spare-1");
  });

  it("gives the spare that serves soonest (ready, then a checkout), and keeps empty spares when it learns a repository", async () => {
    const { made, servers, provider, startServer, checkouts, checkOut } = fakes();
    pool = startWarmAgents({ provider, count: 2, settings, log, startServer, checkOut, refillDelayMs: 10 });
    await waitUntil(() => servers.length === 2, { what: "two empty spares" });
    servers[1]!.resolve(server);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The ready one, though younger.
    expect(pool.take(repoA)?.sandbox.id).toBe("spare-1");
    pool.remember(seedOf(repoA));
    await waitUntil(() => servers.length === 3, { what: "a spare of repository A" });
    expect(checkouts.has("spare-2")).toBe(true);
    // The empty one stays: it serves any job.
    expect(made[0]!.destroyed).toBe(false);
    // Both starting: the checkout first. Then the empty one, which a job on any repository may have.
    expect(pool.take(repoA)?.sandbox.id).toBe("spare-2");
    await waitUntil(() => servers.length === 4, { what: "another spare of repository A" });
    servers[0]!.resolve(server);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Now a ready empty one before a checkout still starting.
    expect(pool.take(repoA)?.sandbox.id).toBe("spare-0");
    expect(pool.take(repoA)?.sandbox.id).toBe("spare-3");
  });

  it("follows the worker's latest repository: another's spares go, and one made for the old repository meanwhile is never offered", async () => {
    const { made, servers, provider, startServer, checkouts, checkOut } = fakes();
    pool = startWarmAgents({ provider, count: 1, settings, log, startServer, checkOut, refillDelayMs: 10 });
    await waitUntil(() => servers.length === 1, { what: "the first spare" });
    pool.take(repoA);
    pool.remember(seedOf(repoA));
    await waitUntil(() => servers.length === 2, { what: "a spare of repository A" });

    // A job on B: nothing for it; once it has checked B out, A's spare goes and B's comes.
    expect(pool.take(repoB)).toBeNull();
    pool.remember(seedOf(repoB, "b".repeat(40)));
    await waitUntil(() => made[1]!.destroyed, { what: "A's spare to be destroyed" });
    await waitUntil(() => servers.length === 3, { what: "a spare of repository B" });
    expect(checkouts.get(servers[2]!.sandbox.id)).toMatchObject(repoB);
    expect(pool.take(repoB)?.sandbox.id).toBe(servers[2]!.sandbox.id);
    await pool.close();

    // A's spare still being checked out when B's job checks out: destroyed when done, not offered.
    const slow = fakes();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    pool = startWarmAgents({ provider: slow.provider, count: 1, settings, log, startServer: slow.startServer, checkOut: (sandbox, seed) => gate.then(() => slow.checkOut(sandbox, seed)), refillDelayMs: 10 });
    await waitUntil(() => slow.servers.length === 1, { what: "the first spare" });
    pool.take(repoA);
    pool.remember(seedOf(repoA));
    await waitUntil(() => slow.made.length === 2, { what: "A's spare to be made" });
    pool.remember(seedOf(repoB));
    release();
    await waitUntil(() => slow.made[1]!.destroyed, { what: "A's late spare to be destroyed" });
    expect(slow.servers).toHaveLength(1);
    expect(pool.take(repoA)).toBeNull();
  });

  it("drops a spare whose opencode does not start, waits before the next, and leaves a taken one's sandbox to its job", async () => {
    const { made, servers, provider, startServer } = fakes();
    pool = startWarmAgents({ provider, count: 1, settings, log, startServer, refillDelayMs: 10 });
    await waitUntil(() => servers.length === 1, { what: "the first spare's server to start" });
    servers[0]!.reject(new Error("opencode exited"));
    await waitUntil(() => made[0]!.destroyed, { what: "the broken spare to be destroyed" });
    expect(pool.take(repoA)).toBeNull();
    // No second attempt at once: a broken opencode must not spin.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(made).toHaveLength(1);
    expect(pool.size).toBe(0);
    await pool.close();

    // Taken while starting, then failing: the failure is the job's (its server), and so is the sandbox.
    const second = fakes();
    pool = startWarmAgents({ provider: second.provider, count: 1, settings, log, startServer: second.startServer, refillDelayMs: 60_000 });
    await waitUntil(() => second.servers.length === 1, { what: "the spare's server to start" });
    const taken = pool.take(repoA)!;
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
    expect(pool.take(repoA)).toBeNull();
  });

  it("destroys its spares when closed, and makes none after", async () => {
    const { made, servers, provider, startServer } = fakes();
    pool = startWarmAgents({ provider, count: 2, settings, log, startServer });
    await waitUntil(() => servers.length === 2, { what: "two spares" });
    await pool.close();
    expect(made.map((record) => record.destroyed)).toEqual([true, true]);
    expect(pool.take(repoA)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(made).toHaveLength(2);
  });
});
