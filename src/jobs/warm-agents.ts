import { posix } from "node:path";
import type { Logger } from "pino";
import { startOpencodeServer, type OpencodeServer } from "../agent/opencode-server.ts";
import type { Sandbox, SandboxProvider } from "../sandbox/sandbox.ts";
import { opencodeConfigOf, serverPlacementOf } from "./agent-server.ts";
import { gatewayProviders } from "./gateway-access.ts";
import type { WorkerSettings } from "./run-job.ts";

/**
 * An agent started before its job: a spare sandbox, empty, with opencode already running
 * and warmed up in it (its start is most of what a job waits for before its first model
 * request: 1.4 s of 2.7 s here, bench:first-request). It serves one job, which clones into
 * its workdir, and then goes as any job's sandbox does: nothing of one job is ever seen by
 * another.
 */
export interface WarmAgent {
  sandbox: Sandbox;
  /** Settles once the server is up and warm (a job may take an agent still starting: it has a head start). */
  server: Promise<OpencodeServer>;
  /** Where the server reads the job's gateway token from (`{file:…}` in its config); null without a gateway. */
  tokenFile: string | null;
}

export interface WarmAgents {
  /** A warm agent for a job, oldest first, and another warmed behind it; null when none is there. */
  take(): WarmAgent | null;
  /** Spares on hand, warm or warming. */
  readonly size: number;
  /** Destroy the spares; none is made after. */
  close(): Promise<void>;
}

interface Spare {
  agent: WarmAgent;
  madeAt: number;
}

/** A spare is replaced after this long unused: its sandbox's lifetime runs from when it was made. */
const SPARE_MAX_AGE_MS = 30 * 60_000;
/** Spares are kept only while jobs come: none is made once the worker has taken none for this long. */
const ACTIVE_WINDOW_MS = 60 * 60_000;
/** After a spare fails to start, the next is made no sooner than this (a broken opencode must not spin). */
const RETRY_AFTER_FAILURE_MS = 60_000;
/**
 * A spare taken is replaced this long after: opencode's start costs a CPU-second or two,
 * which the job that took the spare needs more during its own start (its clone, install
 * and first prompt). Later, the job mostly waits for the model.
 */
const REFILL_DELAY_MS = 5_000;

/**
 * Keep `count` warm agents on hand while jobs come (from the worker's start, then for an
 * hour after each job starts). Only where the provider can make a sandbox for no job yet
 * (`createSpare`: the local sandbox); elsewhere nothing is kept and `take` gives null.
 */
export function startWarmAgents(input: {
  provider: SandboxProvider;
  count: number;
  settings: WorkerSettings;
  log: Logger;
  now?: () => number;
  startServer?: typeof startOpencodeServer;
  refillDelayMs?: number;
}): WarmAgents {
  const { provider, settings, log } = input;
  const now = input.now ?? Date.now;
  const startServer = input.startServer ?? startOpencodeServer;
  const createSpare = provider.createSpare?.bind(provider);
  const spares: Spare[] = [];
  let warming = 0;
  let closed = false;
  let lastTaken = now();
  let failedAt = Number.NEGATIVE_INFINITY;

  async function makeOne(): Promise<void> {
    if (!createSpare) return;
    warming += 1;
    /** Made, and not offered yet: destroyed here if it never is. */
    let unoffered: Sandbox | null = null;
    try {
      // It lives a job's lifetime after it is taken, however long it waited.
      const sandbox = (unoffered = await createSpare({ limits: { ...settings.limits, timeoutMs: settings.limits.timeoutMs + SPARE_MAX_AGE_MS } }));
      const tokenFile = settings.gateway ? posix.join(sandbox.home, "gateway-token") : null;
      // Read by the warm-up's own directory; the job's token replaces it before the workdir's first request.
      if (tokenFile) await sandbox.writeFile(tokenFile, "no-job-yet");
      const warmUpDirectory = posix.join(sandbox.home, "warm-up");
      await sandbox.exec(["mkdir", "-p", warmUpDirectory]);
      if (closed) return;
      const config = opencodeConfigOf(settings, settings.gateway && tokenFile ? gatewayProviders(settings.gateway, `{file:${tokenFile}}`) : null);
      const server = startServer(sandbox, { config, warmUpDirectory, ...serverPlacementOf(provider) });
      // Its failure is handled below while it is a spare, and is its job's once taken: never unhandled.
      server.catch(() => {});
      const spare: Spare = { agent: { sandbox, server, tokenFile }, madeAt: now() };
      spares.push(spare);
      unoffered = null;
      await server.catch(async (error: unknown) => {
        // Closing destroys the spares, which ends their servers: that is no failure.
        if (closed) return;
        failedAt = now();
        log.warn({ err: error }, "a warm agent did not start; jobs start their own meanwhile");
        // A job that took it meanwhile has the failure as its own server's, and its sandbox.
        if (spares.includes(spare)) await discard(spare);
      });
    } catch (error) {
      if (!closed) {
        failedAt = now();
        log.warn({ err: error }, "a spare sandbox could not be made; jobs make their own meanwhile");
      }
    } finally {
      warming -= 1;
      await unoffered?.destroy().catch(() => {});
    }
  }

  async function discard(spare: Spare): Promise<void> {
    spares.splice(spares.indexOf(spare), 1);
    await spare.agent.sandbox.destroy().catch((error: unknown) => log.warn({ err: error }, "destroying a spare sandbox failed"));
  }

  function fill(): void {
    if (closed || !createSpare || now() - lastTaken > ACTIVE_WINDOW_MS || now() - failedAt < RETRY_AFTER_FAILURE_MS) return;
    while (spares.length + warming < input.count) void makeOne();
  }

  const sweep = setInterval(() => {
    for (const spare of spares.filter((spare) => now() - spare.madeAt > SPARE_MAX_AGE_MS)) void discard(spare);
    fill();
  }, 60_000).unref();
  fill();

  return {
    take() {
      lastTaken = now();
      const spare = spares.shift() ?? null;
      setTimeout(fill, input.refillDelayMs ?? REFILL_DELAY_MS).unref();
      return spare?.agent ?? null;
    },
    get size() {
      return spares.length + warming;
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      await Promise.all(spares.splice(0).map((spare) => spare.agent.sandbox.destroy().catch(() => {})));
    },
  };
}
