/** The phases of a job, in order, as shown in the check run and the progress comment. */
export const PHASES = ["prepare", "explore", "plan", "build", "verify", "deliver"] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_LABELS: Record<Phase, string> = {
  prepare: "Prepare the sandbox: clone, detect the project, install",
  explore: "Explore: map the repository and read the relevant code",
  plan: "Plan: decide the steps",
  build: "Build: the agent makes the changes",
  verify: "Verify: run the project's checks",
  deliver: "Deliver: commit, push, open the pull request",
};
