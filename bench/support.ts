import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { startEmbeddedPostgres } from "../src/store/embedded-postgres.ts";

/** A Postgres server URL for a benchmark: DATABASE_URL, or an embedded one it starts. */
export async function benchDatabaseServer(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const dir = await mkdtemp(path.join(os.tmpdir(), "ra-bench-pg-"));
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres(dir, pino({ level: "silent" }));
  return {
    url: embedded.url,
    async stop() {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function summarize(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  return `${label}: n=${samples.length} p50=${fmt(percentile(sorted, 50))} p90=${fmt(percentile(sorted, 90))} p99=${fmt(percentile(sorted, 99))} max=${fmt(sorted.at(-1) ?? Number.NaN)}`;
}

/** The machine's load, to read a figure by: benchmarks here share two cores with whatever else runs. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(" ");
}

export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
