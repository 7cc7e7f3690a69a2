import { configDefaults, defineConfig } from "vitest/config";
import { HANG_MS } from "./test/support/patience.ts";

/**
 * The slowest end-to-end files (several app processes, or a whole eval suite, each a minute
 * of real agent jobs) are `*.slow.test.ts`: `npm test` leaves them out, `npm run test:slow`
 * runs only them, `npm run test:all` both. CI runs both.
 */
const SLOW = "test/**/*.slow.test.ts";
const group = process.env.TEST_GROUP ?? "fast";

export default defineConfig({
  test: {
    include: group === "slow" ? [SLOW] : ["test/**/*.test.ts"],
    exclude: group === "fast" ? [...configDefaults.exclude, SLOW] : configDefaults.exclude,
    globalSetup: ["test/global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Waits end on signals; these only turn a hang into a failure (test/support/patience.ts).
    testTimeout: 2 * HANG_MS,
    hookTimeout: 2 * HANG_MS,
    pool: "forks",
    // Most of a test's time is spent waiting on opencode, git and Postgres, not on the CPU.
    maxWorkers: Number(process.env.TEST_WORKERS) > 0 ? Number(process.env.TEST_WORKERS) : 2,
  },
});
