/**
 * Live progress of a local run in the terminal, from the job row. On a TTY one status line
 * is rewritten in place; anywhere else (CI logs, pipes) a line is written only when the
 * status, phase or round changes, so a log never fills with repeats of the same state.
 */
import { formatUsd } from "../budget.ts";
import { formatDuration } from "../duration.ts";
import type { JobReporter } from "../jobs/job-host.ts";
import type { JobEvent } from "../store/job-events.sql.ts";
import type { Job } from "../store/jobs.sql.ts";

/** What the writers need of a stream: `process.stdout` and `process.stderr` fit, and so does a test's array. */
export interface ProgressStream {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressWriter {
  /** Show the job's latest state. Call it on every change. */
  update(job: Job): void;
  /** Show the last state again with the time now: call it on a timer so the elapsed time moves on a TTY. */
  tick(): void;
  /** Print one event of the job's log as its own line, above the status line on a TTY. */
  event(event: JobEvent, since?: Date): void;
  /** The final state; on a TTY the status line is ended with a newline. */
  finish(job: Job): void;
}

export interface ProgressOptions {
  now?: () => Date;
  /** Least time between two rewrites of the TTY line that show no new phase or round. */
  throttleMs?: number;
}

/** Event kinds worth a line of their own during a run: rounds, checks, the push, and what changed the course. */
export const NOTABLE_EVENT_KINDS: ReadonlySet<string> = new Set(["round", "check", "push", "debug_mode", "baseline", "install", "plan", "resumed", "requeued"]);

const CLEAR_LINE = "\r\x1b[2K";
// Event messages and check names come from the repository and the agent: an escape
// sequence in them must not move the cursor or rewrite the terminal.
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]+/g;

/** The status line: `build · round 2 · 12,345 in / 678 out tokens · $0.0123 · 1m 5s`. */
export function renderStatusLine(job: Job, now: Date, round: number | null = roundOf(job)): string {
  const state = job.status === "running" ? (job.phase ?? "starting") : job.status;
  const parts = [state];
  if (round !== null) parts.push(`round ${round}`);
  parts.push(`${job.totalTokensIn.toLocaleString("en-US")} in / ${job.totalTokensOut.toLocaleString("en-US")} out tokens`, formatUsd(job.totalCost), formatDuration(elapsedMs(job, now)));
  return parts.join(" · ");
}

/** An event as one line: `[1m 5s] round: round 1: checks passed`, the time counted from `since` when given. */
export function renderEventLine(event: JobEvent, since?: Date): string {
  const message = oneLine(event.message);
  const text = `${oneLine(event.kind)}: ${message}`;
  return since ? `[${formatDuration(event.at.getTime() - since.getTime())}] ${text}` : text;
}

/** The writer for `stream`: in place on a TTY, plain lines otherwise. */
export function createProgressWriter(stream: ProgressStream, options: ProgressOptions = {}): ProgressWriter {
  return stream.isTTY ? createTtyProgress(stream, options) : createPlainProgress(stream, options);
}

export function createTtyProgress(stream: ProgressStream, options: ProgressOptions = {}): ProgressWriter {
  const now = options.now ?? (() => new Date());
  const throttleMs = options.throttleMs ?? 100;
  const rounds = createRoundTracker();
  let shown: { key: string; at: number; line: string } | null = null;
  let latest: Job | null = null;
  let finished = false;

  const fit = (line: string) => {
    // A line longer than the terminal wraps, and `\r` then rewrites only its last row.
    const width = stream.columns && stream.columns > 1 ? stream.columns - 1 : Infinity;
    return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
  };
  const draw = (job: Job, force: boolean) => {
    latest = job;
    const round = rounds.next(job);
    const key = stateKey(job, round);
    const at = now().getTime();
    if (!force && shown !== null && shown.key === key && at - shown.at < throttleMs) return;
    const line = fit(renderStatusLine(job, new Date(at), round));
    if (!force && shown?.line === line) return;
    stream.write(CLEAR_LINE + line);
    shown = { key, at, line };
  };

  return {
    update(job) {
      if (!finished) draw(job, false);
    },
    tick() {
      if (!finished && latest !== null) draw(latest, false);
    },
    event(event, since) {
      if (finished) return;
      stream.write(`${CLEAR_LINE}${fit(renderEventLine(event, since))}\n${shown ? shown.line : ""}`);
    },
    finish(job) {
      if (finished) return;
      finished = true;
      draw(job, true);
      stream.write("\n");
    },
  };
}

export function createPlainProgress(stream: ProgressStream, options: ProgressOptions = {}): ProgressWriter {
  const now = options.now ?? (() => new Date());
  const rounds = createRoundTracker();
  let lastKey: string | null = null;
  let finished = false;

  const write = (job: Job) => {
    const round = rounds.next(job);
    const key = stateKey(job, round);
    if (key === lastKey) return;
    lastKey = key;
    stream.write(`${renderStatusLine(job, now(), round)}\n`);
  };

  return {
    update(job) {
      if (!finished) write(job);
    },
    // A plain log gets a line per change only; the time alone is not one.
    tick() {},
    event(event, since) {
      if (!finished) stream.write(`${renderEventLine(event, since)}\n`);
    },
    finish(job) {
      if (finished) return;
      finished = true;
      write(job);
    },
  };
}

/** The writer as the local engine's JobReporter, which a job's run reports through as it would to GitHub. */
export function asJobReporter(writer: ProgressWriter): JobReporter {
  return {
    update: (job) => writer.update(job),
    // Writing to the terminal is synchronous: nothing is ever waiting.
    flush: async () => {},
    finish: async (job) => {
      writer.finish(job);
      return true;
    },
  };
}

/**
 * The round a running job is in, or null outside build and verify. `iterations` counts
 * finished rounds and is written at the end of verify, so from the row alone a job still
 * in verify after that write would read one round ahead; `createRoundTracker` keeps the
 * round a verify phase started with.
 */
export function roundOf(job: Job): number | null {
  if (job.status !== "running" || (job.phase !== "build" && job.phase !== "verify")) return null;
  return job.iterations + 1;
}

function createRoundTracker() {
  let verifying: number | null = null;
  return {
    next(job: Job): number | null {
      const round = roundOf(job);
      if (round === null || job.phase !== "verify") {
        verifying = null;
        return round;
      }
      verifying ??= round;
      return verifying;
    },
  };
}

function stateKey(job: Job, round: number | null): string {
  return `${job.status}|${job.phase ?? ""}|${round ?? ""}`;
}

function elapsedMs(job: Job, now: Date): number {
  const started = job.startedAt ?? job.createdAt;
  return (job.finishedAt ?? now).getTime() - started.getTime();
}

function oneLine(text: string): string {
  return text.replace(CONTROL_CHARACTERS, " ").trim();
}
