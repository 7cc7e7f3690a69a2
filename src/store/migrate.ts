import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import type pg from "pg";
import { ADVISORY_LOCKS, withAdvisoryLock } from "./advisory-lock.ts";

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

/**
 * Apply pending migrations. Several processes may start at once against one database:
 * a session advisory lock makes them take turns, and the later ones find nothing to do.
 */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  await withAdvisoryLock(pool, { namespace: ADVISORY_LOCKS.migration }, (client) => migrate(drizzle(client), { migrationsFolder }));
}
