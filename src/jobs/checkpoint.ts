import { z } from "zod";
import type { Job } from "../store/jobs.sql.ts";

/**
 * What a job keeps between attempts. Once its branch is pushed, a retried job (a GitHub
 * 5xx while opening the pull request, a worker that stopped) goes straight to the pull
 * request instead of redoing the work, which would also fail to push over itself.
 */
export const checkpointSchema = z.object({
  pushed: z
    .object({
      sha: z.string(),
      files: z.array(z.string()),
      summary: z.string(),
      testsPassed: z.boolean().nullable(),
      testSummary: z.string(),
    })
    .optional(),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;
export type PushedWork = NonNullable<Checkpoint["pushed"]>;

/** The job's checkpoint; an unreadable one (written by another version) counts as none. */
export function readCheckpoint(job: Job): Checkpoint {
  const parsed = checkpointSchema.safeParse(job.checkpoint ?? {});
  return parsed.success ? parsed.data : {};
}
