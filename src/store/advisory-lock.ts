import type pg from "pg";
import { checkOut } from "./check-out.ts";

/**
 * The session advisory locks of the app, one namespace per kind of thing locked. Fixed
 * numbers: every process of every version takes the same lock for the same thing.
 */
export const ADVISORY_LOCKS = {
  /** Migrating the schema: processes starting at once take turns, the later ones find nothing to do. */
  migration: 727_274_001,
  /** Announcing one job on GitHub (keyed by its id): the web process and the worker take turns. */
  announceJob: 727_274_002,
  /** Showing one pipeline run on GitHub (keyed by its id). */
  showRun: 727_274_003,
} as const;

/**
 * Run `work` on one connection of the pool while holding a session advisory lock: callers
 * in any process holding the same lock (the same namespace and key) take turns. `key`
 * names one thing of the kind (a job's or a run's id); without it the lock is the whole
 * namespace. The lock is released, and the connection returned, however `work` ends.
 */
export async function withAdvisoryLock<T>(pool: pg.Pool, lock: { namespace: number; key?: string }, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, release: giveBack } = await checkOut(pool);
  const [take, release, params] =
    lock.key === undefined
      ? ["select pg_advisory_lock($1)", "select pg_advisory_unlock($1)", [lock.namespace]]
      : ["select pg_advisory_lock($1, hashtext($2))", "select pg_advisory_unlock($1, hashtext($2))", [lock.namespace, lock.key]];
  try {
    await client.query(take, params);
    return await work(client);
  } finally {
    await client.query(release, params).catch(() => {});
    giveBack();
  }
}
