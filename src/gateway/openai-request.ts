/**
 * Reading OpenAI-style requests (chat completions, completions, responses, embeddings)
 * for metering. Pure.
 *
 * Refused: server-side tools, background responses, stored conversations and prompts
 * (`previous_response_id`, `conversation`, `prompt`), several answers per request (`n`,
 * `best_of`), audio, predicted outputs and dearer service tiers: each is billed by
 * something the gateway cannot bound or does not see. Streamed chat and completions get
 * `stream_options.include_usage`, or their answers would carry no usage to charge.
 */
import { isRecord } from "../json.ts";
import { promptTokensOf } from "./prompt-tokens.ts";
import {
  firstToolNotAllowed,
  invalidRequest,
  isRefusal,
  isUnset,
  isUnsetOr,
  outputLimitOf,
  serverToolRefusal,
  unmeterable,
  type RequestReading,
  type RequestRefusal,
} from "./request-fields.ts";

export type OpenAiApi = "chat" | "completions" | "responses" | "embeddings";

/** Which field holds each API's output limit; chat takes either (`max_tokens` is what every compatible server knows). */
const limitFields: Record<OpenAiApi, readonly string[]> = {
  chat: ["max_tokens", "max_completion_tokens"],
  completions: ["max_tokens"],
  responses: ["max_output_tokens"],
  embeddings: [],
};

/** Legacy completions write 16 tokens unless told otherwise; the gateway says so explicitly, for servers with other defaults. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

export function readOpenAiRequest(api: OpenAiApi, body: Record<string, unknown>): RequestReading {
  if (typeof body.model !== "string" || body.model === "") return invalidRequest("it names no model");
  const refused = refusalOf(api, body);
  if (refused) return refused;
  const limits: number[] = [];
  for (const field of limitFields[api]) {
    const limit = outputLimitOf(body, field);
    if (isRefusal(limit)) return limit;
    if (limit !== undefined) limits.push(limit);
  }
  const prompt = promptTokensOf(body);
  if ("refusal" in prompt) return unmeterable(prompt.refusal);
  const named = limits.length > 0 ? Math.max(...limits) : api === "completions" ? COMPLETIONS_DEFAULT_MAX_TOKENS : undefined;
  return {
    model: body.model,
    promptTokens: prompt.tokens,
    maxOutputTokens: named,
    writesOutput: api !== "embeddings",
    withOutputLimit: (tokens) => withUsageReported(api, withLimit(api, body, tokens)),
  };
}

function refusalOf(api: OpenAiApi, body: Record<string, unknown>): RequestRefusal | null {
  if (!isUnsetOr(body, "stream", true, false)) return invalidRequest("stream must be true or false");
  // Priority and scale tiers cost more per token than the price the operator set.
  if (!isUnsetOr(body, "service_tier", "auto", "default", "flex")) return unmeterable(`service_tier "${String(body.service_tier)}" is priced apart`);
  const tool = firstToolNotAllowed(body.tools, (candidate) => candidate.type === "function" || candidate.type === "custom");
  if (tool) return serverToolRefusal(tool);
  if (api === "chat") {
    if (!isUnset(body.web_search_options)) return serverToolRefusal("web_search_options");
    if (!isUnsetOr(body, "n", 1)) return unmeterable("n > 1 asks for several answers at once; send one request per answer");
    if (!isUnset(body.audio) || !(isUnset(body.modalities) || (Array.isArray(body.modalities) && body.modalities.every((one) => one === "text")))) {
      return unmeterable("audio is priced apart from text");
    }
    if (!isUnset(body.prediction)) return unmeterable("predicted outputs bill rejected tokens beyond the output limit");
  }
  if (api === "completions" && !(isUnsetOr(body, "n", 1) && isUnsetOr(body, "best_of", 1))) {
    return unmeterable("n or best_of > 1 asks for several answers at once; send one request per answer");
  }
  if (api === "responses") {
    if (!isUnsetOr(body, "background", false)) return unmeterable("background responses end after the request does, out of the gateway's sight");
    for (const field of ["previous_response_id", "conversation", "prompt"]) {
      if (!isUnset(body[field])) return unmeterable(`${field} brings in a stored prompt whose size the gateway cannot see; send the whole input (store: false)`);
    }
  }
  return null;
}

function withLimit(api: OpenAiApi, body: Record<string, unknown>, tokens: number): Record<string, unknown> {
  const fields = limitFields[api];
  if (fields.length === 0) return { ...body };
  const present = fields.filter((field) => !isUnset(body[field]));
  const limited: Record<string, unknown> = { ...body };
  for (const field of present) limited[field] = Math.min(body[field] as number, tokens);
  if (present.length === 0) limited[fields[0]!] = tokens;
  return limited;
}

/** Streamed chat and completions report usage only when asked to; code holding the job's token need not ask. */
export function withUsageReported(api: OpenAiApi, body: Record<string, unknown>): Record<string, unknown> {
  if ((api !== "chat" && api !== "completions") || body.stream !== true) return body;
  const options = isRecord(body.stream_options) ? body.stream_options : {};
  return { ...body, stream_options: { ...options, include_usage: true } };
}
