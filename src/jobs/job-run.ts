import type { Logger } from "pino";
import { createRedactor, redactKnownTokens } from "../redact.ts";
import { appendJobEvent, updateJob } from "../store/job-queries.ts";
import type { Job, JobStatus } from "../store/jobs.sql.ts";
import { JobError } from "../job-error.ts";
import type { JobHost } from "./job-host.ts";
import type { Phase } from "./phases.ts";
import type { RunJobDeps } from "./run-job.ts";

type JobPatch = Parameters<typeof updateJob>[2];

/**
 * A job in progress: its row (kept current), its clock, the secrets to redact, and how it
 * reports. Every write goes to the database first, so any process can show the job.
 */
export class JobRun {
  job: Job;
  readonly deps: RunJobDeps;
  /** Where the job's progress shows and its result goes. */
  readonly host: JobHost;
  readonly log: Logger;
  readonly now: () => Date;
  private readonly deadline: number;
  private readonly secrets: string[] = [];
  private readonly timings: Record<string, number> = {};

  constructor(deps: RunJobDeps, job: Job, host: JobHost, log: Logger, now: () => Date) {
    this.deps = deps;
    this.job = job;
    this.host = host;
    this.log = log;
    this.now = now;
    // The limit is on the job, not the attempt: time spent waiting to be retried counts.
    this.deadline = (job.startedAt ?? now()).getTime() + deps.settings.timeoutMs;
    Object.assign(this.timings, job.timings);
  }

  /** Settles once the job shows where its progress goes (at once, unless another process was still announcing it when it started). */
  announced: Promise<void> = Promise.resolve();

  /**
   * The job started while another process was announcing it: finish the announcement
   * (waiting for that process, or doing what it left undone if it died), then show the job
   * as it is now where it was announced.
   */
  finishAnnouncing(): void {
    this.announced = this.host.announce(this.job.id).then(
      (announced) => {
        this.job = { ...this.job, commentId: announced.commentId, checkRunId: announced.checkRunId, announceStartedAt: announced.announceStartedAt };
        this.host.progress.update(this.job, { force: true });
      },
      (error: unknown) => this.log.warn({ err: error }, "announcing the job failed; the minute's sweep shows it"),
    );
  }

  private token: Promise<string | null> | undefined;

  /**
   * The secret git pushes and fetches with, asked of the host once. A job asks for it as it
   * starts, before its first progress write: GitHub's writes share one pace in a process
   * (Probot's throttling, about a second apart), and the token's request is one of them,
   * so asked after the progress writes it waited for them (~2 s of every start).
   */
  gitToken(): Promise<string | null> {
    this.token ??= this.host.gitToken(this.job);
    return this.token;
  }

  addSecret(secret: string): void {
    this.secrets.push(secret);
  }

  redact(text: string): string {
    return redactKnownTokens(createRedactor(this.secrets)(text));
  }

  /** Time left before the job's wall-clock limit; throws the timeout once it is passed. */
  remainingMs(): number {
    const remaining = this.deadline - this.now().getTime();
    if (remaining <= 0) throw new JobError("timeout", `the job passed its time limit of ${Math.round(this.deps.settings.timeoutMs / 60_000)} minutes`);
    return remaining;
  }

  /** Run one piece of a phase: enters the phase (shown on GitHub), times it, checks the clock. */
  async step<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    this.remainingMs();
    if (this.job.phase !== phase) {
      this.job = await this.write({ phase });
      await this.event("phase", `phase ${phase} started`, { phase });
      this.host.progress.update(this.job, { force: true });
    }
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.timings[phase] = (this.timings[phase] ?? 0) + Math.round(performance.now() - started);
    }
  }

  async record(patch: JobPatch): Promise<void> {
    this.job = await this.write({ ...patch, timings: { ...this.timings } });
    this.host.progress.update(this.job);
  }

  private writing: Promise<unknown> = Promise.resolve();

  /**
   * One write of the job's row, after those asked before it: parts of a job run side by
   * side (the task's context is gathered while the workspace is made; the install runs
   * while the agent explores), and the row each write returns replaces `job`, so they
   * must land, and return, in the order they were asked.
   */
  private write(patch: JobPatch): Promise<Job> {
    const written = this.writing.then(() => updateJob(this.deps.db, this.job.id, patch));
    this.writing = written.catch(() => {});
    return written;
  }

  async event(kind: string, message: string, data?: Record<string, unknown>): Promise<void> {
    const safeData = data ? (JSON.parse(this.redact(JSON.stringify(data))) as Record<string, unknown>) : undefined;
    await appendJobEvent(this.deps.db, this.job.id, kind, this.redact(message), safeData);
  }

  async finish(status: JobStatus, patch: JobPatch): Promise<Job> {
    const finishedAt = this.now();
    this.timings.total = finishedAt.getTime() - (this.job.startedAt ?? finishedAt).getTime();
    this.job = await this.write({ ...patch, status, finishedAt, timings: { ...this.timings } });
    // The log says why, not only a field: whoever follows it live sees the reason as the job ends.
    await this.event("finished", this.job.failureMessage ? `job ${status}: ${this.job.failureMessage}` : `job ${status}`, { status });
    return this.job;
  }

  async fail(error: JobError): Promise<Job> {
    const status: JobStatus = error.kind === "timeout" ? "timed_out" : error.kind === "cancelled" ? "cancelled" : "failed";
    this.log.warn({ kind: error.kind, err: error }, "job failed");
    return this.finish(status, { failureKind: error.kind, failureMessage: this.redact(error.message) });
  }

  /** The job's final state reached where its progress goes: the sweep need not show it again. */
  async recordShown(): Promise<void> {
    this.job = await this.write({ shownStatus: this.job.status });
  }

  /** Put the job back in the queue (another attempt, maybe on another worker), saying why. */
  async handBack(reason: string): Promise<void> {
    this.log.info({ reason }, "job handed back to the queue");
    await this.event("requeued", reason);
    this.job = await this.write({ status: "queued", timings: { ...this.timings } });
    this.host.progress.update(this.job, { force: true });
    // The process may be about to exit (a stopping worker): make sure GitHub heard.
    await this.host.progress.flush();
  }
}
