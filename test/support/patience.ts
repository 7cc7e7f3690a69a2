/**
 * How long a test waits for what it waits for. Every wait in the tests waits for a signal
 * (a log line, an exit, a row, a request) and fails at once when that can no longer come
 * (the process exited first). The deadline only turns a hang into a failure that says what
 * was awaited: so it is not a guess at how fast a machine is, but far beyond what anything
 * takes on a loaded 2-core machine, one number for every wait. `TEST_HANG_MS` changes it.
 * A test timeout (vitest.config.ts) is twice this, so a wait's own message comes first.
 */
export const HANG_MS = Number(process.env.TEST_HANG_MS) > 0 ? Number(process.env.TEST_HANG_MS) : 5 * 60_000;
