/**
 * Reading Anthropic messages requests for metering. Pure.
 *
 * Tools the client runs itself pass: its own (no type, or `custom`) and Anthropic's
 * client tools (`bash_…`, `text_editor_…`, `computer_…`, `memory_…`), which add a
 * definition of their own to the prompt. Server tools (web search and fetch, code
 * execution, tool search), MCP servers and containers are refused: they run on Anthropic's
 * side, loop within one request and are billed per use. So are the prices the operator's
 * per-token price does not cover: the 1M-token context beta (dearer past 200k tokens) and
 * one-hour cache writes (twice the input price). A five-minute cache write costs a quarter
 * more than plain input, so the prompt's bound is raised by a quarter, and the meter
 * charges the writes it reports at that rate.
 */
import { isRecord } from "../json.ts";
import { CACHE_WRITE_SURCHARGE } from "./pricing.ts";
import { promptTokensOf } from "./prompt-tokens.ts";
import { firstToolNotAllowed, invalidRequest, isRefusal, isUnset, isUnsetOr, outputLimitOf, serverToolRefusal, unmeterable, type RequestReading } from "./request-fields.ts";

const CLIENT_TOOL = /^(?:bash|text_editor|computer|memory)_\d+$/;
/** An Anthropic-defined tool's own definition and instructions, added to the prompt (the computer tool's is under a thousand). */
export const ANTHROPIC_TOOL_TOKENS = 2_000;

/** `betas`: the request's `anthropic-beta` header, split at commas. */
export function readAnthropicRequest(body: Record<string, unknown>, betas: readonly string[]): RequestReading {
  if (typeof body.model !== "string" || body.model === "") return invalidRequest("it names no model");
  if (betas.some((beta) => beta.startsWith("context-1m"))) return unmeterable("the 1M-token context beta is priced higher past 200k input tokens");
  if (hasHourLongCacheWrite(body)) return unmeterable("one-hour cache writes cost twice the input price");
  if (!isUnsetOr(body, "stream", true, false)) return invalidRequest("stream must be true or false");
  const tool = firstToolNotAllowed(body.tools, (candidate) => isUnset(candidate.type) || candidate.type === "custom" || CLIENT_TOOL.test(String(candidate.type)));
  if (tool) return serverToolRefusal(tool);
  if (!(isUnset(body.mcp_servers) || (Array.isArray(body.mcp_servers) && body.mcp_servers.length === 0))) return serverToolRefusal("mcp_servers");
  if (!isUnset(body.container)) return serverToolRefusal("container");
  const limit = outputLimitOf(body, "max_tokens");
  if (isRefusal(limit)) return limit;
  const prompt = promptTokensOf(body);
  if ("refusal" in prompt) return unmeterable(prompt.refusal);
  const definedTools = Array.isArray(body.tools) ? body.tools.filter((one) => isRecord(one) && CLIENT_TOOL.test(String(one.type))).length : 0;
  return {
    model: body.model,
    promptTokens: Math.ceil((prompt.tokens + definedTools * ANTHROPIC_TOOL_TOKENS) * (1 + CACHE_WRITE_SURCHARGE)),
    maxOutputTokens: limit,
    writesOutput: true,
    withOutputLimit: (tokens) => withLimit(body, tokens),
  };
}

/**
 * `max_tokens` bounds thinking and answer together; a thinking budget must stay below it,
 * so a clamped limit takes the budget down with it (the provider refuses one under 1,024).
 */
function withLimit(body: Record<string, unknown>, tokens: number): Record<string, unknown> {
  const maxTokens = typeof body.max_tokens === "number" ? Math.min(body.max_tokens, tokens) : tokens;
  const thinking = body.thinking;
  if (isRecord(thinking) && typeof thinking.budget_tokens === "number" && thinking.budget_tokens >= maxTokens) {
    return { ...body, max_tokens: maxTokens, thinking: { ...thinking, budget_tokens: Math.max(0, maxTokens - 1) } };
  }
  return { ...body, max_tokens: maxTokens };
}

function hasHourLongCacheWrite(body: Record<string, unknown>): boolean {
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) for (const item of node) stack.push(item);
    else if (isRecord(node)) {
      if (isRecord(node.cache_control) && node.cache_control.ttl !== undefined && node.cache_control.ttl !== "5m") return true;
      for (const value of Object.values(node)) stack.push(value);
    }
  }
  return false;
}
