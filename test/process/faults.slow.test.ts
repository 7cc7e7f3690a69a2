/**
 * The fault suite, short: each case of test/support/fault-cases.ts against real processes,
 * with the invariant checked after it (every accepted request ends exactly once, visibly,
 * nothing left running). `npm run bench:faults` runs the same cases at full length.
 */
import { describe, expect, inject, it } from "vitest";
import { FAULT_CASES, runFaultCase } from "../support/fault-cases.ts";

/**
 * The cases run at once here, a cluster each, on 2 cores: a worker's warm agents (an opencode
 * started and booted per worker, and again after each job) would be most of their CPU.
 * `npm run bench:faults` runs the cases one by one at full length, warm agents on.
 */
const WITHOUT_WARM_AGENTS = { AGENT_WARM_AGENTS: "0" };

describe.concurrent("under faults, every accepted request ends exactly once", () => {
  for (const fault of FAULT_CASES) {
    const unavailable = fault.unavailable?.() ?? null;
    // The skip names why in the test's own name.
    it.skipIf(unavailable !== null)(unavailable ? `${fault.name} (skipped: ${unavailable})` : fault.name, async () => {
      const { verdict, outputs } = await runFaultCase(fault, "short", { databaseServerUrl: inject("databaseUrl"), env: WITHOUT_WARM_AGENTS });
      expect(verdict.problems, `${[...verdict.notes, ...verdict.timeline].join("\n")}\n${outputs}`).toEqual([]);
      expect(verdict.accepted).toBeGreaterThan(0);
    });
  }
});
