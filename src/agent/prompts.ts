import { fenceUntrusted } from "../context/sanitize.ts";
import type { ProjectInfo } from "../verify/detect-project.ts";

export interface TaskPromptInput {
  repository: string;
  issueNumber: number;
  issueTitle: string;
  task: string;
  requester: string;
  project: ProjectInfo;
}

/**
 * The build agent's instructions. The issue title and the task come from GitHub users,
 * so they are fenced as data: the agent is told what they are, and the fence cannot be
 * closed from inside.
 */
export function buildTaskPrompt(input: TaskPromptInput): string {
  return [
    `You are working in a checkout of the repository ${input.repository}, on a branch created for issue #${input.issueNumber}.`,
    `@${input.requester} asked for the change described below. Make it: read the code you need, edit the files, and keep the project's conventions.`,
    "",
    fenceUntrusted("issue title", input.issueTitle),
    "",
    fenceUntrusted("task", input.task),
    "",
    "How to work:",
    "- Make the smallest complete change that does what the task asks, with tests where the project has tests.",
    ...commandHints(input.project),
    "- Do not commit, push, or change git configuration: the changes are committed and pushed for you when you finish.",
    "- Do not try to reach GitHub or any other service; you have no credentials and none are needed.",
    "- When you are done, reply with a short summary (a few lines) of what you changed and why: it becomes the pull request's description.",
  ].join("\n");
}

function commandHints(project: ProjectInfo): string[] {
  const hints: string[] = [];
  if (project.test) hints.push(`- Run the tests with \`${project.test.join(" ")}\` and make them pass before you finish.`);
  if (project.build) hints.push(`- The project builds with \`${project.build.join(" ")}\`.`);
  if (project.lint) hints.push(`- Lint with \`${project.lint.join(" ")}\`.`);
  return hints;
}
