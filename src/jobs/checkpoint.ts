import { z } from "zod";
import type { Job } from "../store/jobs.sql.ts";

/**
 * What a job keeps between attempts, written after each phase. A retried job, or one
 * taken over from a worker that died, skips what is done: it re-creates the sandbox,
 * re-applies the work so far (`build.patch`), and goes on from there. Once the branch is
 * pushed it goes straight to the pull request.
 */
const verificationSchema = z.object({ passed: z.boolean(), testsPassed: z.boolean().nullable(), summary: z.string() });

export const checkpointSchema = z.object({
  /** A follow-up's task as first rendered (discussion up to the trigger): retries show the agent the same. */
  followUp: z.object({ task: z.string() }).optional(),
  /**
   * What a job started from an issue was given beside its task, as first gathered (the
   * discussion up to the request): retries show the agent the same. `attachments` are the
   * images the text points to, fetched again by a worker that has not got them.
   */
  issue: z
    .object({
      context: z.string(),
      given: z.array(z.string()),
      attachments: z.array(z.object({ url: z.string(), file: z.string() })),
      /** The issue's web origin (`https://github.com`): the token goes with an attachment's download only there. */
      webOrigin: z.string().optional(),
    })
    .optional(),
  /** A CI round's failing checks and their extracted errors, as first read: the next round compares its own with them. */
  ci: z.object({ checks: z.array(z.string()), errors: z.string() }).optional(),
  explore: z.object({ report: z.string() }).optional(),
  plan: z
    .object({
      summary: z.string(),
      steps: z.array(z.object({ title: z.string(), detail: z.string(), files: z.array(z.string()) })),
    })
    .optional(),
  build: z
    .object({
      /** Build rounds done. */
      iteration: z.number().int(),
      /** `git diff --binary` of the work against the base commit; null when too large to keep. */
      patch: z.string().nullable(),
      /** The agent's latest summary of its work. */
      summary: z.string(),
      /** Extracted errors of each failed round, oldest first. */
      errorHistory: z.array(z.string()),
      debugMode: z.boolean(),
      verification: verificationSchema.nullable(),
      /** The build agent's opencode session: a follow-up that resumes the parked sandbox continues it. */
      sessionId: z.string().optional(),
    })
    .optional(),
  pushed: z
    .object({
      sha: z.string(),
      files: z.array(z.string()),
      summary: z.string(),
      testsPassed: z.boolean().nullable(),
      checksPassed: z.boolean(),
      testSummary: z.string(),
      /** Proposed in a comment (a fork's pull request), not pushed: `sha` exists only in the sandbox. */
      proposed: z.boolean().optional(),
    })
    .optional(),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;
export type PushedWork = NonNullable<Checkpoint["pushed"]>;
export type BuildState = NonNullable<Checkpoint["build"]>;
export type StoredPlan = NonNullable<Checkpoint["plan"]>;

/** The job's checkpoint; an unreadable one (written by another version) counts as none. */
export function readCheckpoint(job: Job): Checkpoint {
  const parsed = checkpointSchema.safeParse(job.checkpoint ?? {});
  return parsed.success ? parsed.data : {};
}

/** A phase's result added to the job's checkpoint (returns the new checkpoint; the caller stores it). */
export function withCheckpoint<K extends keyof Checkpoint>(job: Job, key: K, value: Checkpoint[K]): Checkpoint {
  return { ...readCheckpoint(job), [key]: value };
}
