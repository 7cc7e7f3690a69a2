import { readFile } from "node:fs/promises";
import { z } from "zod";
import { sanitizeUntrusted } from "../../src/context/sanitize.ts";
import type { EvalTask } from "../../src/eval/suite.ts";
import type { ModelRequest, Script, Turn } from "../fakes/model-server.ts";
import { agentScript } from "./scripted-model.ts";

/** `model-script.json`: the argument of `agentScript`. Turns are checked by the suite's own test; here only the shape. */
const roundsSchema = z.array(z.array(z.custom<Turn>((turn) => typeof turn === "object" && turn !== null)));
const modelScriptSchema = z.object({ explore: roundsSchema.optional(), plan: roundsSchema.optional(), build: roundsSchema });

export type AgentRounds = z.infer<typeof modelScriptSchema>;

export interface ScriptedTask {
  /** The task text the agent is given (task.json's `task`). */
  task: string;
  rounds: AgentRounds;
}

/** Each task with its `model-script.json`; a task without one answers like an unknown task. */
export async function loadScriptedTasks(tasks: readonly EvalTask[]): Promise<ScriptedTask[]> {
  const scripted = await Promise.all(
    tasks.map(async (task) => (task.modelScript === null ? null : { task: task.task, rounds: modelScriptSchema.parse(JSON.parse(await readFile(task.modelScript, "utf8"))) })),
  );
  return scripted.filter((task) => task !== null);
}

/**
 * One scripted model for a whole suite, whose tasks run at once against one server. A
 * request belongs to the task whose text its conversation quotes: every agent's first
 * prompt fences the task (`taskSection` in src/agent/prompts.ts), and a fix round is a
 * later prompt of the same session, so the first one is still in its messages. Within
 * the task, `agentScript` picks the turn. A request quoting no task gets "unknown task".
 */
export function suiteModelScript(tasks: readonly ScriptedTask[]): Script {
  const scripts = tasks.map((task) => ({ needle: comparable(task.task), script: agentScript(task.rounds) }));
  // The longest first: a task whose text contains another's must win over it.
  scripts.sort((a, b) => b.needle.length - a.needle.length);
  return (request: ModelRequest) => {
    const conversation = comparable(userTextOf(request));
    const match = scripts.find((candidate) => conversation.includes(candidate.needle));
    if (match === undefined || typeof match.script !== "function") return { text: "unknown task" };
    return match.script(request);
  };
}

/**
 * Text as the prompts show it: the prompts sanitize the task (NFKC turns `…` into `...`),
 * and whitespace may be wrapped differently, so both sides are compared in that form.
 */
function comparable(text: string): string {
  return sanitizeUntrusted(text).replace(/\s+/g, " ").trim();
}

function userTextOf(request: ModelRequest): string {
  return request.body.messages
    .filter((message) => message.role === "user")
    .map((message) => textOf(message.content))
    .join("\n");
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: unknown) => (typeof part === "object" && part !== null && "text" in part ? String(part.text) : "")).join("");
}
