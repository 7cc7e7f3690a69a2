import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withAdvisoryLock } from "../../src/store/advisory-lock.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { waitUntil } from "../support/wait-until.ts";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const LOCK = { namespace: 999_001, key: "job-1" };

/** "settled" when `promise` settles within 50 ms, else "pending" (a busy machine can only make a settled one look pending). */
async function stateOf(promise: Promise<unknown>): Promise<"settled" | "pending"> {
  const pending = new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 50));
  return Promise.race([promise.then(() => "settled" as const), pending]);
}

describe("withAdvisoryLock", () => {
  it("makes holders of the same lock take turns, and lets another key through", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const first = withAdvisoryLock(database.pool, LOCK, async () => {
      order.push("first in");
      await held;
      order.push("first out");
    });
    // The second caller waits in Postgres until the first lets go.
    await waitUntil(() => order.length > 0, { what: "the first holder to take the lock" });
    expect(order).toEqual(["first in"]);
    const second = withAdvisoryLock(database.pool, LOCK, async () => order.push("second in"));
    const other = withAdvisoryLock(database.pool, { ...LOCK, key: "job-2" }, async () => "other key");
    await expect(other).resolves.toBe("other key");
    expect(await stateOf(second)).toBe("pending");
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["first in", "first out", "second in"]);
  });

  it("releases the lock and the connection when the work throws", async () => {
    const idleBefore = database.pool.totalCount - database.pool.idleCount;
    await expect(withAdvisoryLock(database.pool, LOCK, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(database.pool.totalCount - database.pool.idleCount).toBe(idleBefore);
    await expect(withAdvisoryLock(database.pool, LOCK, async (client) => (await client.query<{ one: number }>("select 1 as one")).rows[0]!.one)).resolves.toBe(1);
  });

  it("locks a whole namespace when no key is given", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const first = withAdvisoryLock(database.pool, { namespace: 999_002 }, () => released);
    const held = async () => (await database.pool.query<{ n: number }>("select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 999002 and granted")).rows[0]!.n === 1;
    await waitUntil(held, { what: "the namespace lock to be held" });
    const second = withAdvisoryLock(database.pool, { namespace: 999_002 }, async () => "second");
    expect(await stateOf(second)).toBe("pending");
    release();
    await expect(second).resolves.toBe("second");
    await first;
  });
});
