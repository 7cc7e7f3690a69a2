/**
 * What one prompt produced, read back from opencode once it is over: the final text,
 * the error if the model failed, and usage. Usage counts only this prompt's messages
 * (a resumed session already holds earlier ones) plus every subagent session it started:
 * subagent usage stays on child sessions, not on the parent's totals.
 */
import type { AssistantMessage, OpencodeClient, Part } from "@opencode-ai/sdk/v2";
import type { AssistantError } from "./model-error.ts";
import { callOpencode } from "./opencode-call.ts";
import { sumUsage } from "./session-events.ts";

/** What existed in the session before the prompt, to tell this prompt's work from earlier work. */
export interface SessionBaseline {
  messageIds: ReadonlySet<string>;
  childIds: ReadonlySet<string>;
}

export interface PromptOutcome {
  /** Text of the last assistant message of the prompt, "" when there is none. */
  text: string;
  /** The last assistant message's error, when the loop ended on one. */
  error?: AssistantError;
  /** Whether the prompt produced any assistant message at all. */
  replied: boolean;
  cost: number;
  tokensIn: number;
  tokensOut: number;
  tokensCache: { read: number; write: number };
  toolCalls: number;
}

type SessionMessage = { info: AssistantMessage | { role: "user"; id: string }; parts: Part[] };

export const emptyBaseline: SessionBaseline = { messageIds: new Set(), childIds: new Set() };

export async function readBaseline(client: OpencodeClient, sessionId: string): Promise<SessionBaseline> {
  const [messages, children] = await Promise.all([messagesOf(client, sessionId), childrenOf(client, sessionId)]);
  return { messageIds: new Set(messages.map((message) => message.info.id)), childIds: new Set(children) };
}

export async function readPromptOutcome(client: OpencodeClient, sessionId: string, baseline: SessionBaseline): Promise<PromptOutcome> {
  const own = (await messagesOf(client, sessionId)).filter((message) => !baseline.messageIds.has(message.info.id));
  const newChildren = (await childrenOf(client, sessionId)).filter((id) => !baseline.childIds.has(id));
  const descendants = await Promise.all(newChildren.map((id) => allMessagesBelow(client, id)));
  const replies = own.filter(isAssistant);
  const all = [...replies, ...descendants.flat().filter(isAssistant)];
  const last = replies.at(-1);
  const cache = all.reduce((sum, message) => ({ read: sum.read + message.info.tokens.cache.read, write: sum.write + message.info.tokens.cache.write }), { read: 0, write: 0 });
  return {
    text: last ? textOf(last.parts) : "",
    ...(last?.info.error ? { error: last.info.error } : {}),
    replied: last !== undefined,
    ...sumUsage(all.map((message) => message.info)),
    tokensCache: cache,
    toolCalls: all.flatMap((message) => message.parts).filter((part) => part.type === "tool").length,
  };
}

/** A session's messages and those of its subagent sessions, to any depth. */
async function allMessagesBelow(client: OpencodeClient, sessionId: string): Promise<SessionMessage[]> {
  const [messages, children] = await Promise.all([messagesOf(client, sessionId), childrenOf(client, sessionId)]);
  const nested = await Promise.all(children.map((id) => allMessagesBelow(client, id)));
  return [...messages, ...nested.flat()];
}

function isAssistant(message: SessionMessage): message is { info: AssistantMessage; parts: Part[] } {
  return message.info.role === "assistant";
}

function textOf(parts: readonly Part[]): string {
  return parts
    .filter((part) => part.type === "text" && !part.synthetic && !part.ignored)
    .map((part) => (part.type === "text" ? part.text : ""))
    .join("")
    .trim();
}

export function messagesOf(client: OpencodeClient, sessionId: string): Promise<SessionMessage[]> {
  return callOpencode("list the session's messages", () => client.session.messages({ sessionID: sessionId }, { throwOnError: true }));
}

async function childrenOf(client: OpencodeClient, sessionId: string): Promise<string[]> {
  const children = await callOpencode("list subagent sessions", () => client.session.children({ sessionID: sessionId }, { throwOnError: true }));
  return children.map((child) => child.id);
}
