/**
 * Reading an `/agent …` command out of an issue or pull-request comment. Pure: the caller
 * decides who may run it and what to do with it.
 *
 * Only a line that starts with `/agent` counts, and only where GitHub shows it as prose
 * (`findCommandLine`): never in code, a quote, an HTML comment or a `<pre>` block.
 */
import { findCommandLine } from "./command-line.ts";

export type AgentCommand =
  | { kind: "task"; task: string }
  | { kind: "help" }
  | { kind: "cancel" }
  | { kind: "retry" }
  | { kind: "run"; pipeline: string; inputs: Record<string, string> }
  | { kind: "invalid"; reason: string };

const COMMAND_PREFIX = "/agent";
const KEYWORD = /^(help|cancel|retry)[.!]?$/i;
const RUN_PREFIX = /^run(?=\s|$)/i;
const PIPELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const INPUT_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// A value is either double-quoted (with \" and \\ escapes) or a run of non-space, quote-free text.
const KEY_VALUE = /([^\s="]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))(?=\s|$)/y;
const RUN_USAGE = "usage: `/agent run <pipeline> [key=value …]`";

/** The first `/agent` command in a comment, or null when there is none. Never throws. */
export function parseCommand(body: string): AgentCommand | null {
  const lines = body.split(/\r\n|\r|\n/);
  const index = findCommandLine(lines);
  if (index === -1) return null;
  const rest = lines[index].trimStart().slice(COMMAND_PREFIX.length);
  return interpretCommand(rest, lines.slice(index + 1));
}

function interpretCommand(rest: string, following: readonly string[]): AgentCommand {
  const line = rest.trim();
  const keyword = KEYWORD.exec(line);
  if (keyword) return keywordCommand(keyword[1].toLowerCase());
  if (RUN_PREFIX.test(line)) {
    const run = parseRunCommand(line.slice(3).trim());
    if (run !== null) return run;
  }
  const task = [rest, ...following].join("\n").trim();
  return task === "" ? { kind: "help" } : { kind: "task", task };
}

/**
 * `run <pipeline> [key=value …]`, or null when the words after `run` read as prose
 * ("run the tests and fix them"): such a comment is a task, not a pipeline with a typo.
 */
function parseRunCommand(args: string): AgentCommand | null {
  const [name = "", second = ""] = args.split(/\s+/);
  if (name === "") return invalid(`\`/agent run\` needs a pipeline name; ${RUN_USAGE}`);
  if (name.includes("=")) return invalid(`the pipeline name must come before its inputs; ${RUN_USAGE}`);
  if (!PIPELINE_NAME.test(name)) return null;
  if (second !== "" && !second.includes("=")) return null;
  const inputs = parseInputs(args.slice(name.length));
  if (typeof inputs === "string") return invalid(`${inputs}; ${RUN_USAGE}`);
  return { kind: "run", pipeline: name, inputs };
}

/** The inputs, or the reason they cannot be read. */
function parseInputs(text: string): Record<string, string> | string {
  const entries = new Map<string, string>();
  let position = skipSpaces(text, 0);
  while (position < text.length) {
    KEY_VALUE.lastIndex = position;
    const match = KEY_VALUE.exec(text);
    if (!match) return describeBadInput(text.slice(position).split(/\s/)[0]);
    const key = match[1];
    if (!INPUT_KEY.test(key)) return `\`${key}\` is not a valid input name (letters, digits, _ . -)`;
    if (entries.has(key)) return `input \`${key}\` is given twice`;
    const value = match[2] === undefined ? match[3] : match[2].replace(/\\(.)/g, "$1");
    entries.set(key, value);
    position = skipSpaces(text, KEY_VALUE.lastIndex);
  }
  // fromEntries defines own properties, so a key such as `__proto__` cannot touch the prototype.
  return Object.fromEntries(entries);
}

function describeBadInput(token: string): string {
  if (token.includes('"')) return `unterminated or misplaced quote in \`${token}\` (quote whole values: key="a b")`;
  if (token.startsWith("=")) return `input \`${token}\` has no name`;
  return `\`${token}\` is not a key=value input`;
}

function skipSpaces(text: string, from: number): number {
  let position = from;
  while (position < text.length && /\s/.test(text[position])) position += 1;
  return position;
}

function keywordCommand(word: string): AgentCommand {
  if (word === "help") return { kind: "help" };
  if (word === "cancel") return { kind: "cancel" };
  return { kind: "retry" };
}

function invalid(reason: string): AgentCommand {
  return { kind: "invalid", reason };
}
