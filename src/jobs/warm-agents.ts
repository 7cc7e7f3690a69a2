import type { Logger } from "pino";
import { startOpencodeServer, type OpencodeServer } from "../agent/opencode-server.ts";
import type { IssuedGatewayToken } from "../gateway/gateway-tokens.ts";
import type { Sandbox, SandboxProvider } from "../sandbox/sandbox.ts";
import { opencodeConfigOf, serverPlacementOf } from "./agent-server.ts";
import { gatewayProviders } from "./gateway-access.ts";
import type { WorkerSettings } from "./run-job.ts";

/**
 * An agent started before its job: a spare sandbox with opencode already running and
 * warmed up in it (its start is most of what a job waits for before its first model
 * request: 1.4 s of 2.7 s here, bench:first-request), and booted in its workdir (its first
 * prompt's costs paid: 0.6–1 s more). Once the worker has run a job on a repository, its
 * spares hold a checkout of that repository there too. It serves one job, and then goes as
 * any job's sandbox does: nothing of one job is ever seen by another.
 */
export interface WarmAgent {
  sandbox: Sandbox;
  /** Settles once the server is up and warm (a job may take an agent still starting: it has a head start). */
  server: Promise<OpencodeServer>;
  /** The server's way to the models with the gateway on: a token of no job yet, in its config, which the job taking it binds to itself. */
  gatewayToken: IssuedGatewayToken | null;
  /** The repository checked out in its workdir, or null: an empty repository there, which the job clones into. opencode is booted there either way. */
  checkout: RepositorySeed | null;
}

/** A repository a job on this worker checked out: its next spares are checkouts of it. */
export interface RepositorySeed {
  /** Which repository: a spare of it goes to a job on this same repository only. */
  repoId: number;
  cloneUrl: string;
  branch: string;
  sha: string;
  /** A repository on this host that holds `sha`: the mirror, or the repository itself (a path). */
  objectsOf: string;
}

/** The repository a job is on, as `take` matches it against the spares' checkouts. */
export type RepositoryOfJob = Pick<RepositorySeed, "repoId" | "cloneUrl">;

export interface WarmAgents {
  /** A warm agent for a job on `repository` (a checkout of it, or an empty one; a ready one first); null when none is there. Another is warmed behind it. */
  take(repository: RepositoryOfJob): WarmAgent | null;
  /** The repository the worker's latest job checked out: checkouts of other repositories go, and the next spares are of it. */
  remember(seed: RepositorySeed): void;
  /** Spares on hand, warm or warming. */
  readonly size: number;
  /** Destroy the spares; none is made after. */
  close(): Promise<void>;
}

/** What the pool needs to give a spare its token (with the gateway on). */
export interface SpareTokens {
  issue(ttlMs: number): Promise<IssuedGatewayToken>;
  revoke(tokenHash: string): Promise<unknown>;
}

interface Spare {
  agent: WarmAgent;
  madeAt: number;
  /** Its server is up, warm and booted. */
  ready: boolean;
}

/** A spare is replaced after this long unused: its sandbox's lifetime runs from when it was made. */
const SPARE_MAX_AGE_MS = 30 * 60_000;
/** A spare's token outlives the spare's wait by this much (a job binds it to its own lifetime). */
const TOKEN_GRACE_MS = 5 * 60_000;
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
 * A worker's spares are of the repository its latest job was on (`remember`): one serving
 * several repositories at once has warm checkouts for one of them, and the others' jobs
 * start their own agents.
 */
export function startWarmAgents(input: {
  provider: SandboxProvider;
  count: number;
  settings: WorkerSettings;
  log: Logger;
  /** Required with the gateway on: a spare's token is in its config from the start. */
  tokens?: SpareTokens;
  /** Check a seed's commit out in a spare's workdir (`checkOutForSpare`). Without it, spares stay empty. */
  checkOut?: (sandbox: Sandbox, seed: RepositorySeed) => Promise<void>;
  now?: () => number;
  startServer?: typeof startOpencodeServer;
  refillDelayMs?: number;
}): WarmAgents {
  const { provider, settings, log } = input;
  const now = input.now ?? Date.now;
  const startServer = input.startServer ?? startOpencodeServer;
  const createSpare = provider.createSpare?.bind(provider);
  if (settings.gateway && createSpare && input.count > 0 && !input.tokens) throw new Error("warm agents with the gateway on need a way to issue their tokens");
  const spares: Spare[] = [];
  let warming = 0;
  let closed = false;
  let lastTaken = now();
  let failedAt = Number.NEGATIVE_INFINITY;
  let latest: RepositorySeed | null = null;

  async function makeOne(): Promise<void> {
    if (!createSpare) return;
    warming += 1;
    const seed = latest;
    let sandbox: Sandbox | null = null;
    let token: IssuedGatewayToken | null = null;
    /** Once offered, the spare is the pool's (or its job's); until then, destroyed here if anything goes wrong. */
    let offered = false;
    try {
      // It lives a job's lifetime after it is taken, however long it waited.
      sandbox = await createSpare({ limits: { ...settings.limits, timeoutMs: settings.limits.timeoutMs + SPARE_MAX_AGE_MS } });
      token = settings.gateway ? await input.tokens!.issue(SPARE_MAX_AGE_MS + TOKEN_GRACE_MS) : null;
      const checkout = seed && input.checkOut ? seed : null;
      if (checkout) await input.checkOut?.(sandbox, checkout);
      else await emptyRepository(sandbox);
      if (closed || !isCurrent(checkout)) return;
      const config = opencodeConfigOf(settings, settings.gateway && token ? gatewayProviders(settings.gateway, token.token) : null);
      const server = startServer(sandbox, { config, bootWorkdir: true, ...serverPlacementOf(provider) });
      // Its failure is handled below while it is a spare, and is its job's once taken: never unhandled.
      server.catch(() => {});
      const spare: Spare = { agent: { sandbox, server, gatewayToken: token, checkout }, madeAt: now(), ready: false };
      server.then(() => (spare.ready = true), () => {});
      spares.push(spare);
      // Counted among the spares from now on (taken or not), not as warming.
      warming -= 1;
      offered = true;
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
        log.warn({ err: error, repoId: seed?.repoId }, "a spare sandbox could not be made; jobs make their own meanwhile");
      }
    } finally {
      if (!offered) {
        warming -= 1;
        await destroy({ sandbox, gatewayToken: token });
      }
    }
  }

  /** A spare's checkout is of the latest seed's repository (an empty one is always current). */
  function isCurrent(checkout: RepositorySeed | null): boolean {
    return checkout === null || (latest !== null && sameRepository(checkout, latest));
  }

  async function revokeQuietly(token: IssuedGatewayToken): Promise<void> {
    await input.tokens?.revoke(token.tokenHash).catch((error: unknown) => log.warn({ err: error }, "revoking a spare's gateway token failed; it expires unused"));
  }

  async function discard(spare: Spare): Promise<void> {
    spares.splice(spares.indexOf(spare), 1);
    await destroy(spare.agent);
  }

  /** A spare no job will have: its sandbox destroyed, its token revoked. */
  async function destroy(agent: { sandbox: Sandbox | null; gatewayToken: IssuedGatewayToken | null }): Promise<void> {
    await agent.sandbox?.destroy().catch((error: unknown) => log.warn({ err: error }, "destroying a spare sandbox failed"));
    if (agent.gatewayToken) await revokeQuietly(agent.gatewayToken);
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
    take(repository) {
      lastTaken = now();
      // The one that serves soonest: ready before starting (a start left takes seconds), then a checkout before an empty one.
      const rankOf = (spare: Spare) => (spare.ready ? 0 : 2) + (spare.agent.checkout ? 0 : 1);
      const fitting = spares.filter((spare) => spare.agent.checkout === null || sameRepository(spare.agent.checkout, repository));
      const spare = fitting.reduce<Spare | undefined>((best, candidate) => (best === undefined || rankOf(candidate) < rankOf(best) ? candidate : best), undefined);
      if (spare) spares.splice(spares.indexOf(spare), 1);
      setTimeout(fill, input.refillDelayMs ?? REFILL_DELAY_MS).unref();
      return spare?.agent ?? null;
    },
    remember(seed) {
      if (!input.checkOut) return;
      latest = seed;
      // Their slots are the new repository's (empty spares stay: they serve any job, and are replaced by checkouts as they are taken).
      for (const spare of spares.filter((spare) => spare.agent.checkout !== null && !sameRepository(spare.agent.checkout, seed))) void discard(spare);
    },
    get size() {
      return spares.length + warming;
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      await Promise.all(spares.splice(0).map((spare) => destroy(spare.agent)));
    },
  };
}

/**
 * An empty spare's workdir: a git repository with no commit yet, which the job's clone fills
 * (`git init` there again is harmless). opencode finds a directory's project (by git) once,
 * when it boots it: booted on an empty repository, the workdir is a git project whose
 * worktree is the workdir, and a clone made there later is read, searched and edited as any
 * checkout (opencode 1.18, tested: the job's first model request 0.14 s after its prompt,
 * against 0.78 s on an unbooted workdir).
 */
async function emptyRepository(sandbox: Sandbox): Promise<void> {
  const result = await sandbox.exec(["git", "init", "--quiet"]);
  if (result.exitCode !== 0) throw new Error(`git init in a spare's workdir failed: ${result.stderr || result.stdout}`);
}

function sameRepository(a: RepositoryOfJob, b: RepositoryOfJob): boolean {
  return a.repoId === b.repoId && a.cloneUrl === b.cloneUrl;
}
