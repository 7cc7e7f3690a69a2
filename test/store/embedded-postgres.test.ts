import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/store/embedded-postgres.ts";
import { migrateDatabase } from "../../src/store/migrate.ts";

describe("the embedded Postgres", () => {
  it("does not take over the process's exit code or signals", () => {
    const script = [
      'import { loadEmbeddedPostgres } from "./src/store/embedded-postgres.ts";',
      "await loadEmbeddedPostgres();",
      'process.stdout.write(String(process.listenerCount("beforeExit") + process.listenerCount("SIGTERM")));',
      "process.exitCode = 3;",
    ].join("\n");
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: path.resolve(import.meta.dirname, "../.."), encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("0");
    expect(result.status).toBe(3);
  });

  it("starts in a fresh data dir, migrates, and starts again on the same data", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ra-embedded-"));
    await chmod(dir, 0o755);
    const log = pino({ level: "silent" });
    try {
      const first = await startEmbeddedPostgres(dir, log);
      const pool = new pg.Pool({ connectionString: first.url });
      await migrateDatabase(pool);
      await pool.query("insert into webhook_deliveries (delivery_id, event, outcome) values ('kept', 'ping', 'test')");
      await pool.end();
      await first.stop();

      const second = await startEmbeddedPostgres(dir, log);
      const client = new pg.Client({ connectionString: second.url });
      await client.connect();
      const { rows } = await client.query("select delivery_id from webhook_deliveries");
      await client.end();
      await second.stop();
      expect(rows).toEqual([{ delivery_id: "kept" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
