/** The phases' times from a job's timings (milliseconds by phase), without `total`. */
export function phaseTimesOf(timings: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).filter(([phase, ms]) => phase !== "total" && Number.isFinite(ms) && ms >= 0));
}

/** The phase that took longest, or null when none was timed. */
export function slowestPhaseOf(phaseMs: Readonly<Record<string, number>>): string | null {
  let slowest: [string, number] | null = null;
  for (const entry of Object.entries(phaseMs)) if (slowest === null || entry[1] > slowest[1]) slowest = entry;
  return slowest?.[0] ?? null;
}
