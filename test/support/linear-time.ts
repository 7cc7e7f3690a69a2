import { expect } from "vitest";

/** Sizes compared, in characters: the largest is 256 times the smallest. */
export const SMALL_INPUT = 1024;
export const LARGE_INPUT = 256 * SMALL_INPUT;
/** How much faster than its input the time may grow: noise, caches and GC, never a square (256x more for 256x the input). */
const SLACK = 8;
/**
 * How often a size over its allowance is timed again before failing. On a loaded machine
 * (two test suites on two cores) a run of a few microseconds is often preempted part-way:
 * the quickest of many runs is the code's time. Super-linear code fails every retiming,
 * and at a small size, so the retries cost little there.
 */
const RETIMINGS = 20;
/** A run too quick for the clock would make every ratio look huge. */
const MIN_BASE_NS = 1_000;

/**
 * Expects `run` to take time linear in the size of its input on `worstCaseOfSize`, an
 * input of (about) the given number of characters shaped to hurt. A ratio of timings,
 * never a wall-time limit, so a busy machine slows both sides alike: the time on 1 KiB
 * (the best of several runs) against the time on 2, 4 … 256 KiB, each allowed 8 times
 * its share. Linear code stays far below (256 KiB: at most 2,048x); quadratic code is
 * ~65,000x there. The sizes double so that super-linear code fails at a few KiB instead
 * of running for minutes on the largest input, and a size over its allowance is timed
 * again (up to RETIMINGS times) before failing, since noise only ever slows a run down.
 */
export function expectLinearTime(run: (input: string) => unknown, worstCaseOfSize: (chars: number) => string): void {
  const small = worstCaseOfSize(SMALL_INPUT);
  bestOf(5, () => timeOf(run, small)); // warm-up: the first runs compile
  const base = Math.max(bestOf(15, () => timeOf(run, small)), MIN_BASE_NS);
  const seen: string[] = [`${SMALL_INPUT}: ${format(base)}`];
  for (let size = 2 * SMALL_INPUT; size <= LARGE_INPUT; size *= 2) {
    const input = worstCaseOfSize(size);
    const allowed = (size / SMALL_INPUT) * SLACK;
    let took = timeOf(run, input);
    let ratio = took / base;
    // Retimed within a second's work at most: a slow size is a finding, not noise.
    for (let again = 0, spent = took; again < RETIMINGS && ratio > allowed && spent < 1e9; again += 1) {
      took = timeOf(run, input);
      spent += took;
      ratio = Math.min(ratio, took / base);
    }
    seen.push(`${size}: ${format(ratio * base)} (${Math.round(ratio)}x)`);
    expect(ratio, `time grew faster than the input (chars: time) — ${seen.join(", ")}`).toBeLessThanOrEqual(allowed);
  }
}

function timeOf(run: (input: string) => unknown, input: string): number {
  const start = process.hrtime.bigint();
  run(input);
  return Number(process.hrtime.bigint() - start);
}

/** The quickest of up to `times` runs; fewer when they are slow, as super-linear code is. */
function bestOf(times: number, measure: () => number): number {
  let best = Number.POSITIVE_INFINITY;
  let spent = 0;
  for (let round = 0; round < times && (round < 3 || spent < 100e6); round += 1) {
    const took = measure();
    best = Math.min(best, took);
    spent += took;
  }
  return best;
}

function format(nanoseconds: number): string {
  return `${(nanoseconds / 1e6).toFixed(3)} ms`;
}
