import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A throwaway database on `serverUrl`, for code that runs outside vitest (benchmarks, the
 * fault suite, which both use): `drop()` removes it. Tests use `createTestDatabase`.
 */
export async function createScratchDatabase(serverUrl: string, prefix = "ra_scratch"): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
