import { findJob } from "../store/job-queries.ts";
import { commitAndPush } from "../jobs/commit-and-push.ts";
import type { JobHost } from "../jobs/job-host.ts";
import type { JobReporter } from "../jobs/job-host.ts";

/**
 * A job on a repository on this machine (`running-agent run`): no GitHub. The sandbox
 * clones the repository by its path, so the user's working tree, index and current branch
 * are never touched; the work comes back as a new branch pushed into it. Progress goes
 * wherever `progress` writes (the terminal).
 */
export function localHost(input: { db: Parameters<typeof findJob>[0]; progress: JobReporter }): JobHost {
  return {
    async announce(jobId) {
      const job = await findJob(input.db, jobId);
      if (!job) throw new Error(`job ${jobId} does not exist`);
      return job;
    },
    async showState(job) {
      await input.progress.finish(job);
    },
    progress: input.progress,
    // The base commit and the branch were decided when the run was asked for (`runLocal`).
    prepare: async () => {},
    gatherTask: async () => {},
    // The task is all there is: no issue, no attachments.
    attach: async () => {},
    gitToken: async () => null,
    egress: async () => [],
    publish: (run, sandbox, work) => commitAndPush(run, sandbox, work),
    async deliver(run) {
      await run.finish("completed", {});
    },
    failed: async () => {},
  };
}
