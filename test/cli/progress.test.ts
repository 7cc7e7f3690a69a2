import { describe, expect, it } from "vitest";
import { asJobReporter, createPlainProgress, createProgressWriter, createTtyProgress, NOTABLE_EVENT_KINDS, renderEventLine, renderStatusLine } from "../../src/cli/progress.ts";
import type { JobEvent } from "../../src/store/job-events.sql.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { jobFixture } from "../support/job-fixture.ts";

const startedAt = new Date("2026-11-24T10:00:00Z");

function captureStream(tty: { columns?: number } | null = null) {
  const writes: string[] = [];
  return { writes, stream: { write: (text: string) => void writes.push(text), isTTY: tty !== null, ...(tty?.columns ? { columns: tty.columns } : {}) } };
}

/** A clock the test moves. */
function clock(start = startedAt) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

const running = (overrides: Partial<Job>) => jobFixture({ status: "running", startedAt, ...overrides });

function event(kind: string, message: string, at = new Date("2026-11-24T10:01:05Z")): JobEvent {
  return { id: 1, jobId: "j", at, kind, message, data: null };
}

describe("the status line", () => {
  it("shows the phase, round, tokens, cost and elapsed time", () => {
    const job = running({ phase: "build", iterations: 1, totalTokensIn: 12_345, totalTokensOut: 678, totalCost: 0.01234 });
    expect(renderStatusLine(job, new Date("2026-11-24T10:01:05Z"))).toBe("build · round 2 · 12,345 in / 678 out tokens · $0.0123 · 1m 5s");
  });

  it("names no round outside build and verify, and the status once the job has ended", () => {
    expect(renderStatusLine(running({ phase: "explore" }), startedAt)).toBe("explore · 0 in / 0 out tokens · $0.00 · 0s");
    expect(renderStatusLine(jobFixture({ status: "queued" }), new Date("2026-11-24T10:00:03Z"))).toBe("queued · 0 in / 0 out tokens · $0.00 · 3s");
    const ended = running({ status: "completed", phase: "deliver", iterations: 2, finishedAt: new Date("2026-11-24T10:02:00Z") });
    expect(renderStatusLine(ended, new Date("2026-11-24T11:00:00Z"))).toBe("completed · 0 in / 0 out tokens · $0.00 · 2m 0s");
  });

  it("prints an event on one line, without control characters, timed from the start when asked", () => {
    expect(renderEventLine(event("round", "round 1: checks passed"), startedAt)).toBe("[1m 5s] round: round 1: checks passed");
    expect(renderEventLine(event("check", "test: failed\n\x1b[2Jboom"))).toBe("check: test: failed [2Jboom");
  });

  it("offers the event kinds worth a line", () => {
    for (const kind of ["round", "check", "push"]) expect(NOTABLE_EVENT_KINDS.has(kind)).toBe(true);
    expect(NOTABLE_EVENT_KINDS.has("phase")).toBe(false);
  });
});

describe("plain progress (not a TTY)", () => {
  it("writes a line per change of phase, round or status, and no repeats", () => {
    const { writes, stream } = captureStream();
    const time = clock();
    const progress = createProgressWriter(stream, { now: time.now });
    progress.update(running({ phase: "explore" }));
    time.advance(5_000);
    progress.update(running({ phase: "explore", totalTokensIn: 500 }));
    progress.update(running({ phase: "build", iterations: 0, totalTokensIn: 900 }));
    progress.update(running({ phase: "verify", iterations: 0 }));
    // The round is recorded at the end of verify: still round 1, not a new line.
    progress.update(running({ phase: "verify", iterations: 1 }));
    progress.update(running({ phase: "build", iterations: 1 }));
    progress.finish(running({ status: "completed", phase: "deliver", iterations: 2, finishedAt: time.now() }));
    progress.finish(running({ status: "completed", phase: "deliver", iterations: 2, finishedAt: time.now() }));
    expect(writes).toEqual([
      "explore · 0 in / 0 out tokens · $0.00 · 0s\n",
      "build · round 1 · 900 in / 0 out tokens · $0.00 · 5s\n",
      "verify · round 1 · 0 in / 0 out tokens · $0.00 · 5s\n",
      "build · round 2 · 0 in / 0 out tokens · $0.00 · 5s\n",
      "completed · 0 in / 0 out tokens · $0.00 · 5s\n",
    ]);
    expect(writes.join("")).not.toContain("\r");
    expect(writes.join("")).not.toContain("\x1b");
  });

  it("writes nothing on a tick: the time alone is no change", () => {
    const { writes, stream } = captureStream();
    const time = clock();
    const progress = createPlainProgress(stream, { now: time.now });
    progress.update(running({ phase: "plan" }));
    time.advance(5_000);
    progress.tick();
    expect(writes).toEqual(["plan · 0 in / 0 out tokens · $0.00 · 0s\n"]);
  });

  it("prints events as lines of their own", () => {
    const { writes, stream } = captureStream();
    const progress = createPlainProgress(stream);
    progress.event(event("push", "pushed 2 changed file(s) to agent/x"), startedAt);
    expect(writes).toEqual(["[1m 5s] push: pushed 2 changed file(s) to agent/x\n"]);
  });
});

describe("asJobReporter", () => {
  it("passes the engine's updates and final state to the writer", async () => {
    const { writes, stream } = captureStream();
    const reporter = asJobReporter(createPlainProgress(stream, { now: () => startedAt }));
    reporter.update(running({ phase: "explore" }), { force: true });
    await reporter.flush();
    await reporter.finish(running({ status: "cancelled", finishedAt: startedAt }));
    expect(writes).toEqual(["explore · 0 in / 0 out tokens · $0.00 · 0s\n", "cancelled · 0 in / 0 out tokens · $0.00 · 0s\n"]);
  });
});

describe("TTY progress", () => {
  it("rewrites one line in place, throttled, and ends it with a newline", () => {
    const { writes, stream } = captureStream({ columns: 200 });
    const time = clock();
    const progress = createProgressWriter(stream, { now: time.now, throttleMs: 100 });
    progress.update(running({ phase: "explore" }));
    time.advance(50);
    progress.update(running({ phase: "explore", totalTokensIn: 10 }));
    time.advance(1_000);
    progress.update(running({ phase: "explore", totalTokensIn: 20 }));
    // A new phase is shown at once, however soon.
    progress.update(running({ phase: "plan", totalTokensIn: 30 }));
    progress.finish(running({ status: "failed", phase: "plan", finishedAt: time.now() }));
    progress.update(running({ phase: "build" }));
    expect(writes).toEqual([
      "\r\x1b[2Kexplore · 0 in / 0 out tokens · $0.00 · 0s",
      "\r\x1b[2Kexplore · 20 in / 0 out tokens · $0.00 · 1s",
      "\r\x1b[2Kplan · 30 in / 0 out tokens · $0.00 · 1s",
      "\r\x1b[2Kfailed · 0 in / 0 out tokens · $0.00 · 1s",
      "\n",
    ]);
  });

  it("redraws the elapsed time on a tick, and nothing when the line would not change", () => {
    const { writes, stream } = captureStream({});
    const time = clock();
    const progress = createTtyProgress(stream, { now: time.now, throttleMs: 100 });
    progress.tick();
    const job = running({ phase: "build" });
    progress.update(job);
    progress.update(job);
    time.advance(2_000);
    progress.tick();
    time.advance(200);
    progress.tick();
    expect(writes).toEqual(["\r\x1b[2Kbuild · round 1 · 0 in / 0 out tokens · $0.00 · 0s", "\r\x1b[2Kbuild · round 1 · 0 in / 0 out tokens · $0.00 · 2s"]);
  });

  it("cuts the line to the terminal's width so that it never wraps", () => {
    const { writes, stream } = captureStream({ columns: 20 });
    createTtyProgress(stream, { now: () => startedAt }).update(running({ phase: "explore" }));
    expect(writes).toEqual(["\r\x1b[2Kexplore · 0 in / 0…"]);
  });

  it("prints an event above the status line and draws the line again", () => {
    const { writes, stream } = captureStream({ columns: 200 });
    const progress = createTtyProgress(stream, { now: () => startedAt });
    progress.update(running({ phase: "verify" }));
    progress.event(event("check", "test: passed"));
    expect(writes.at(-1)).toBe("\r\x1b[2Kcheck: test: passed\nverify · round 1 · 0 in / 0 out tokens · $0.00 · 0s");
  });
});
