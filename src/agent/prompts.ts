import { fenceUntrusted } from "../context/sanitize.ts";
import { allocateBudget, estimateTokens, fitToTokens } from "../context/tokens.ts";
import type { ProjectInfo } from "../verify/detect-project.ts";

/**
 * The agents' instructions, one function per phase. Everything that comes from GitHub
 * users or from the repository (task, title, test output) is fenced as data: the agent
 * is told what it is, and the fence cannot be closed from inside.
 */
export interface TaskContext {
  repository: string;
  issueNumber: number;
  issueTitle: string;
  task: string;
  requester: string;
  /**
   * A follow-up on a pull request, rendered by `renderFollowUpTask`: it fences the users'
   * text itself and keeps its own budget, and carries instructions of ours (how to report
   * per review comment), so it is shown instead of the fenced `task`, never inside a fence.
   */
  followUp?: string;
  /**
   * The issue the task came from, rendered by `renderIssueContext` (fenced, marked by access,
   * on its own budget): shown after the task, never cut again.
   */
  issueContext?: string;
  /** The job is one step of a pipeline run: later steps may read what its reply ends with. */
  pipelineStep?: { pipeline: string; step: string };
}

/** Token budgets of what users write: a huge issue body is cut, with a marker, never silently. */
const TITLE_TOKENS = 200;
const TASK_TOKENS = 6_000;

function originOf(context: TaskContext): string {
  const issue = context.issueNumber > 0 ? `issue #${context.issueNumber}` : null;
  if (context.pipelineStep) return `Step \`${context.pipelineStep.step}\` of the pipeline \`${context.pipelineStep.pipeline}\`${issue ? `, run from ${issue}` : ""}, requested by @${context.requester}.`;
  return issue ? `Issue #${context.issueNumber}, requested by @${context.requester}.` : `Requested by ${context.requester}.`;
}

function taskSection(context: TaskContext): string[] {
  return [
    `Repository: ${context.repository}. ${originOf(context)}`,
    "",
    fenceUntrusted("issue title", fitToTokens(context.issueTitle, TITLE_TOKENS)),
    "",
    context.followUp ?? fenceUntrusted("task", fitToTokens(context.task, TASK_TOKENS)),
    ...(context.issueContext === undefined ? [] : ["", context.issueContext]),
  ];
}

export function explorePrompt(context: TaskContext, repoMap: string): string {
  return [
    "You are exploring a repository before anyone changes it. Do not modify anything.",
    ...taskSection(context),
    "",
    // File and symbol names come from the repository: data, not instructions.
    fenceUntrusted("repository map (files and their main symbols, ranked, possibly cut)", repoMap),
    "",
    "Read the code that matters for this task: where the change belongs, the code it touches, how it is tested, the conventions.",
    "Reply with an exploration report in Markdown, under these headings: Relevant files (path: why), How it works today, Tests (where and how they run), Conventions, Risks.",
    "Be concrete and short: the report is the only thing the next agents will know about the repository.",
  ].join("\n");
}

export function planPrompt(context: TaskContext, report: string, formatInstructions: string): string {
  return [
    "You are planning a change. Do not modify anything.",
    ...taskSection(context),
    "",
    "What an earlier exploration found:",
    fenceUntrusted("exploration report", report),
    "",
    "Write the plan: the smallest complete set of steps that does what the task asks, including the tests to add or update.",
    formatInstructions,
  ].join("\n");
}

/** One budget for the build prompt's variable parts, shared so that a short one leaves room to the others. */
const BUILD_CONTEXT_TOKENS = 12_000;

export function buildPrompt(context: TaskContext, input: { planMarkdown: string; report: string; project: ProjectInfo }): string {
  // A follow-up's task and an issue's context are already fitted to their own budgets; cutting them again could cut a fence.
  const fixedTokens = estimateTokens(context.followUp ?? "") + estimateTokens(context.issueContext ?? "");
  const parts = allocateBudget(BUILD_CONTEXT_TOKENS - fixedTokens, [
    ...(context.followUp === undefined ? [{ name: "task", text: context.task, min: 1_000, weight: 2 }] : []),
    { name: "plan", text: input.planMarkdown, min: 1_000, weight: 2 },
    { name: "report", text: input.report, min: 500, weight: 1 },
  ]);
  return [
    `You are working in a checkout of ${context.repository}, on ${context.followUp === undefined ? "a branch created for this task" : "the pull request's branch"}.`,
    ...taskSection({ ...context, task: parts.task ?? context.task }),
    "",
    "The plan to follow:",
    parts.plan!,
    "",
    "What an earlier exploration found:",
    fenceUntrusted("exploration report", parts.report!),
    "",
    "How to work:",
    "- Implement the plan; adjust it where the code shows it is wrong. Keep the project's conventions.",
    ...commandHints(input.project),
    "- Do not commit, push, or change git configuration: the changes are committed and pushed for you when you finish.",
    "- Do not try to reach GitHub or any other service; you have no credentials and none are needed.",
    context.followUp === undefined
      ? "- When you are done, reply with a short summary (a few lines) of what you changed and why: it becomes the pull request's description."
      : "- When you are done, reply as the follow-up above asks: it is posted on the pull request.",
    ...(context.pipelineStep
      ? ["- Later steps of the pipeline read your output: when the task asks you to report values, end your reply with them as one JSON object in a ```json block. A step that only reports need not change any file."]
      : []),
  ].join("\n");
}

export function fixPrompt(input: { iteration: number; maxIterations: number; errors: string }): string {
  return [
    `The project's checks failed after your changes (round ${input.iteration} of ${input.maxIterations}). The errors:`,
    fenceUntrusted("check output", input.errors),
    "",
    "Fix the cause, not the symptom: do not weaken or delete tests to make them pass. Run the failing checks yourself before you finish.",
    "Reply with a short summary of everything you changed for this task so far.",
  ].join("\n");
}

/**
 * Debug mode: the same failure came back, so more edits of the same kind will not help.
 * The agent is walked through root-cause analysis with the whole error history.
 */
export function debugPrompt(input: { iteration: number; maxIterations: number; errors: string; history: string[] }): string {
  return [
    `DEBUG MODE. The checks failed again with essentially the same error as before (round ${input.iteration} of ${input.maxIterations}); the previous fixes did not work.`,
    "The latest errors:",
    fenceUntrusted("check output", input.errors),
    "",
    "The errors of the earlier rounds, oldest first:",
    ...input.history.map((errors, index) => fenceUntrusted(`round ${index + 1} errors`, errors)),
    "",
    "Stop editing and find the root cause, step by step:",
    "1. Reproduce: run the failing check and confirm the exact failure.",
    "2. Isolate: narrow it to the smallest failing case (one test, one input, one file).",
    "3. Hypothesize: state what you believe is wrong and why the earlier fixes missed it.",
    "4. Verify: check the hypothesis with a minimal experiment (a print, a tiny script) before changing code.",
    "5. Fix the root cause, then run the checks again.",
    "Reply with a short summary: the root cause, and everything you changed for this task so far.",
  ].join("\n");
}

function commandHints(project: ProjectInfo): string[] {
  const hints: string[] = [];
  if (project.test) hints.push(`- Run the tests with \`${project.test.join(" ")}\` and make them pass before you finish.`);
  if (project.typecheck) hints.push(`- Typecheck with \`${project.typecheck.join(" ")}\`.`);
  if (project.build) hints.push(`- The project builds with \`${project.build.join(" ")}\`.`);
  if (project.lint) hints.push(`- Lint with \`${project.lint.join(" ")}\`.`);
  return hints;
}

/**
 * Messages written on the thread while the agent works (`/agent <more>` by people with
 * write access), each fenced as what it is: a change or an addition to the task, to take
 * into account from the next step on.
 */
export function threadMessagesPrompt(messages: ReadonlyArray<{ author: string; body: string }>): string {
  const fenced = messages.map((message) => fenceUntrusted(`message from @${message.author} (write access), written on the thread while you work`, fitToTokens(message.body, TASK_TOKENS)));
  const who = messages.length === 1 ? "Someone who may request this work has" : "People who may request this work have";
  return [
    `${who} written on the thread since you started. Read ${messages.length === 1 ? "it" : "them"} as part of the task from your next step on: ${messages.length === 1 ? "it may change or add to" : "they may change or add to"} what you were asked. Then carry on until the whole task is done, and end with your summary as before.`,
    ...fenced,
  ].join("\n\n");
}
