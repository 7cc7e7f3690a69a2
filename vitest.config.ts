import { configDefaults, defineConfig } from "vitest/config";
import { HANG_MS } from "./test/support/patience.ts";

/**
 * Three groups, by what a file costs (the suite is CPU-bound: each real opencode server
 * costs about 3 CPU-seconds to start, and a job several more):
 * - `npm test`: everything else, the real opencode binary included (a whole job from the
 *   webhook to the pull request, the hostile agent, the gateway), in about 5 minutes on 2 cores;
 * - `npm run test:e2e`: `*.e2e.test.ts`, the files of many whole agent jobs each (follow-ups,
 *   reviews, CI rounds, the agent loop's rounds, the CLI's process runs, local runs, the
 *   eval suite's tasks, GitHub outages);
 * - `npm run test:slow`: `*.slow.test.ts`, several app processes or a whole eval suite per case.
 * `npm run test:all` runs the three. CI runs `npm test` and `test:e2e`, then `test:slow`
 * when there is time left.
 */
const GROUPS = { e2e: "test/**/*.e2e.test.ts", slow: "test/**/*.slow.test.ts" } as const;
const group = process.env.TEST_GROUP ?? "fast";

function filesOf(name: string): { include: string[]; exclude: string[] } {
  if (name === "e2e" || name === "slow") return { include: [GROUPS[name]], exclude: configDefaults.exclude };
  if (name === "all") return { include: ["test/**/*.test.ts"], exclude: configDefaults.exclude };
  if (name === "fast") return { include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, ...Object.values(GROUPS)] };
  throw new Error(`TEST_GROUP must be fast, e2e, slow or all; got ${name}`);
}

export default defineConfig({
  test: {
    ...filesOf(group),
    globalSetup: ["test/global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Waits end on signals; these only turn a hang into a failure (test/support/patience.ts).
    testTimeout: 2 * HANG_MS,
    hookTimeout: 2 * HANG_MS,
    pool: "forks",
    // Two: on 2 cores the suite keeps them 97% busy (measured), so more forks only add contention.
    maxWorkers: Number(process.env.TEST_WORKERS) > 0 ? Number(process.env.TEST_WORKERS) : 2,
  },
});
