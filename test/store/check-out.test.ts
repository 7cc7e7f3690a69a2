import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withAdvisoryLock } from "../../src/store/advisory-lock.ts";
import { checkOut } from "../../src/store/check-out.ts";
import { withTransaction } from "../../src/store/transaction.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** No statement of the connection's in flight while its end arrives: that is when it emits 'error' (a slow machine only makes the test weaker). */
function idleWhileTheServerEndsIt(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200));
}

/** End a connection from the server's side, as a Postgres restart does (57P01, "terminating connection due to administrator command"). */
async function terminate(pid: number): Promise<void> {
  await database.pool.query("select pg_terminate_backend($1)", [pid]);
}

// Without a listener, a connection ended while checked out emits 'error' unheard: an uncaught exception, which fails this file.
describe("a connection ended by the server while it is checked out", () => {
  it("does not end the process, fails the next statement, and is discarded at release", async () => {
    const { client, release } = await checkOut(database.pool);
    const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
    await terminate(rows[0]!.pid);
    await idleWhileTheServerEndsIt();
    await expect(client.query("select 1")).rejects.toThrow();
    release();
    expect((await database.pool.query("select 1 as one")).rows[0].one).toBe(1);
  });

  it("while an advisory lock is held across other work (GitHub calls), and inside a transaction", async () => {
    const locked = withAdvisoryLock(database.pool, { namespace: 999_002, key: "job" }, async (client) => {
      const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
      await terminate(rows[0]!.pid);
      // The work goes on without the database for a while, as an announcement's GitHub calls do.
      await idleWhileTheServerEndsIt();
      return "done";
    });
    await expect(locked).resolves.toBe("done");
    await expect(
      withTransaction(database.pool, async (_tx, client) => {
        const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
        await terminate(rows[0]!.pid);
        await idleWhileTheServerEndsIt();
        await client.query("select 1");
      }),
    ).rejects.toThrow();
    expect((await database.pool.query("select 1 as one")).rows[0].one).toBe(1);
  });
});
