/** The phases of a job, in order, as shown in the check run and the progress comment. */
export const PHASES = ["prepare", "build", "verify", "deliver"] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_LABELS: Record<Phase, string> = {
  prepare: "Prepare the sandbox: clone, detect the project, install",
  build: "Build: the agent works on the task",
  verify: "Verify: run the project's tests",
  deliver: "Deliver: commit, push, open the pull request",
};
