import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { openDatabase, type Database } from "../../src/store/database.ts";
import { migrateDatabase } from "../../src/store/migrate.ts";

export interface TestDatabase extends Database {
  url: string;
  /** Close the pool and drop the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file, on the run's Postgres server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject("databaseUrl");
  const name = `ra_test_${randomBytes(6).toString("hex")}`;
  await withAdminClient(serverUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // The test's own queries are few: a small pool leaves the server's connections to the apps under test.
  const database = openDatabase(url.toString(), { max: 4 });
  await migrateDatabase(database.pool);
  return {
    ...database,
    url: url.toString(),
    async drop() {
      await database.close();
      await withAdminClient(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
