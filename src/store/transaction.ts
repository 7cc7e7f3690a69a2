import { drizzle } from "drizzle-orm/node-postgres";
import type pg from "pg";
import * as schema from "./schema.ts";
import { checkOut } from "./check-out.ts";
import type { Db } from "./database.ts";

/**
 * Run `fn` in one transaction. It gets drizzle for our tables and the raw client, so that
 * pg-boss can enqueue in the same transaction (its `db.executeSql` option).
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (tx: Db, client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkOut(pool);
  try {
    await client.query("begin");
    const result = await fn(drizzle(client, { schema }), client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    release();
  }
}
