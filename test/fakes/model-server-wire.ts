/**
 * The OpenAI chat-completions wire format, as opencode's `@ai-sdk/openai-compatible`
 * provider reads it. The stream follows what real providers send (FIELD-NOTES): the
 * first tool-call delta carries id and name with empty arguments, the arguments come
 * next, then `finish_reason`, then a chunk with `choices: []` and the usage.
 */
import type { ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { ScriptedToolCall, Usage } from "./model-server.ts";

export interface Answer {
  model: string;
  text: string;
  toolCalls: ScriptedToolCall[];
  usage: Usage;
}

export function writeChatCompletionStream(res: ServerResponse, answer: Answer): void {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const send = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: answer.model, choices, ...extra })}\n\n`);
  };
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  send([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
  if (answer.text !== "") send([{ index: 0, delta: { content: answer.text }, finish_reason: null }]);
  answer.toolCalls.forEach((call, index) => {
    const callId = `call_${randomUUID().replaceAll("-", "")}`;
    const start = { index, id: callId, type: "function", function: { name: call.name, arguments: "" } };
    send([{ index: 0, delta: { tool_calls: [start] }, finish_reason: null }]);
    const rest = { index, function: { arguments: JSON.stringify(call.arguments) } };
    send([{ index: 0, delta: { tool_calls: [rest] }, finish_reason: null }]);
  });
  send([{ index: 0, delta: {}, finish_reason: answer.toolCalls.length > 0 ? "tool_calls" : "stop" }]);
  send([], { usage: usageOf(answer.usage) });
  res.end("data: [DONE]\n\n");
}

export function writeChatCompletion(res: ServerResponse, answer: Answer): void {
  const toolCalls = answer.toolCalls.map((call) => ({
    id: `call_${randomUUID().replaceAll("-", "")}`,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
  const message = { role: "assistant", content: answer.text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
  const body = {
    id: `chatcmpl-${randomUUID()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: answer.model,
    choices: [{ index: 0, message, finish_reason: toolCalls.length > 0 ? "tool_calls" : "stop" }],
    usage: usageOf(answer.usage),
  };
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function usageOf(usage: Usage): Record<string, number> {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}
