/**
 * Reading a model response's token usage from its bytes as they stream past, without
 * holding the stream up. Pure: bytes in, counts out.
 *
 * Providers report usage as running totals, each in its own shape, so every JSON event
 * is searched for all the shapes and the last value seen of each count wins:
 * - OpenAI chat completions: `usage.prompt_tokens` / `completion_tokens` (streamed in a
 *   final chunk when `stream_options.include_usage` is set; the gateway sets it).
 * - OpenAI responses: `usage` or, streamed, `response.usage` with `input_tokens` / `output_tokens`.
 * - Anthropic messages: `message.usage` in `message_start` (input), `usage` in
 *   `message_delta` (output so far); cache reads and writes are counted as input, and
 *   writes kept apart as well, for the surcharge they cost.
 * - Google: `usageMetadata.promptTokenCount` / `candidatesTokenCount` + `thoughtsTokenCount`.
 *
 * Cache reads and thinking tokens are charged at the plain input and output prices: the
 * gateway enforces a budget, and erring high is the safe side of that.
 *
 * A report is final when it is the answer's last word on usage: OpenAI's usage chunk or
 * body, a Responses `response.usage`, Anthropic's `message_delta` or whole message,
 * Google's usage on a finished candidate. Anthropic's `message_start` and Google's running
 * counts are not: an answer cut off after them has used more than they say.
 */
import type { TokenCounts } from "./pricing.ts";
import { isRecord, parseJson } from "../json.ts";

export interface MeteredUsage extends TokenCounts {
  /** A final usage report was seen; without one, the counts may fall short of what was used. */
  reported: boolean;
}

export interface UsageMeter {
  /** Feed the response body, chunk by chunk, as it goes to the client. */
  push(chunk: Uint8Array): void;
  /** The usage seen, once the body has ended (or was cut off). */
  finish(): MeteredUsage;
}

type EventUsage = Partial<TokenCounts> & { final?: boolean };

/** Events or bodies larger than this are not parsed (usage arrives in small events anyway). */
const MAX_PARSED_BYTES = 32 * 1024 * 1024;

export function createUsageMeter(contentType: string | null): UsageMeter {
  const counts: Partial<TokenCounts> = {};
  let reported = false;
  const record = (event: unknown): void => {
    for (const item of Array.isArray(event) ? event : [event]) {
      const { final, ...usage } = usageOfEvent(item);
      Object.assign(counts, usage);
      reported ||= final === true;
    }
  };
  const parser = /event-stream/i.test(contentType ?? "") ? createSseParser(record) : createJsonParser(record);
  return {
    push: (chunk) => parser.push(chunk),
    finish() {
      parser.end();
      const cacheWrites = counts.cacheWriteTokens ? { cacheWriteTokens: counts.cacheWriteTokens } : {};
      return { tokensIn: counts.tokensIn ?? 0, tokensOut: counts.tokensOut ?? 0, ...cacheWrites, reported };
    },
  };
}

/** The usage counts one JSON event or body carries, absent counts left out, and whether they are final. */
export function usageOfEvent(event: unknown): EventUsage {
  if (!isRecord(event)) return {};
  if (isRecord(event.usageMetadata)) {
    const meta = event.usageMetadata;
    const counts = definedOf({ tokensIn: sumOf(meta.promptTokenCount, meta.toolUsePromptTokenCount), tokensOut: sumOf(meta.candidatesTokenCount, meta.thoughtsTokenCount) });
    return withFinal(counts, isFinishedGoogleAnswer(event));
  }
  // Anthropic's message_start: input known, output only begun.
  const started = recordOf(event.message)?.usage;
  const usage = [event.usage, recordOf(event.response)?.usage].find(isRecord) ?? (isRecord(started) ? started : undefined);
  if (!usage) return {};
  const anthropicIn = countOf(usage.input_tokens) === undefined ? undefined : sumOf(usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens);
  const counts = definedOf({
    tokensIn: countOf(usage.prompt_tokens) ?? anthropicIn,
    tokensOut: countOf(usage.completion_tokens) ?? countOf(usage.output_tokens),
    cacheWriteTokens: countOf(usage.cache_creation_input_tokens),
  });
  return withFinal(counts, usage !== started);
}

function isFinishedGoogleAnswer(event: Record<string, unknown>): boolean {
  const finished = Array.isArray(event.candidates) && event.candidates.some((candidate) => isRecord(candidate) && typeof candidate.finishReason === "string");
  // A prompt blocked by a safety filter gets no candidates, only its reason.
  return finished || typeof recordOf(event.promptFeedback)?.blockReason === "string";
}

/** Counts are final only when there are some: an empty usage object reports nothing. */
function withFinal(counts: Partial<TokenCounts>, final: boolean): EventUsage {
  return final && (counts.tokensIn !== undefined || counts.tokensOut !== undefined) ? { ...counts, final: true } : counts;
}

interface Parser {
  push(chunk: Uint8Array): void;
  end(): void;
}

/** Server-sent events: `data:` lines, an event ends at a blank line. */
function createSseParser(record: (event: unknown) => void): Parser {
  const decoder = new TextDecoder();
  let pending = "";
  let data: string[] = [];
  let dataLength = 0;
  const dispatch = (): void => {
    const payload = data.join("\n");
    data = [];
    dataLength = 0;
    if (payload === "" || payload === "[DONE]") return;
    record(parseJson(payload));
  };
  const takeLines = (text: string, final: boolean): void => {
    pending += text;
    const lines = pending.split("\n");
    pending = final ? "" : lines.pop()!;
    for (const raw of lines) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line === "") dispatch();
      else if (line.startsWith("data:") && dataLength < MAX_PARSED_BYTES) {
        const value = line.slice(line.startsWith("data: ") ? 6 : 5);
        data.push(value);
        dataLength += value.length;
      }
    }
    // A line that never ends must not grow without bound: past the limit it is dropped.
    if (pending.length > MAX_PARSED_BYTES) pending = "";
  };
  return {
    push: (chunk) => takeLines(decoder.decode(chunk, { stream: true }), false),
    end() {
      takeLines(decoder.decode(), true);
      dispatch();
    },
  };
}

/** A JSON body (or Google's streamed JSON array), parsed once it is complete. */
function createJsonParser(record: (event: unknown) => void): Parser {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.byteLength;
      if (size <= MAX_PARSED_BYTES) chunks.push(Buffer.from(chunk));
      else chunks.length = 0;
    },
    end() {
      if (size > 0 && size <= MAX_PARSED_BYTES) record(parseJson(Buffer.concat(chunks).toString("utf8")));
    },
  };
}



function recordOf(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

function countOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
}

/** The sum of the counts present; undefined when none is. */
function sumOf(...values: unknown[]): number | undefined {
  const counts = values.map(countOf).filter((count) => count !== undefined);
  return counts.length === 0 ? undefined : counts.reduce((a, b) => a + b, 0);
}

function definedOf(counts: { [K in keyof TokenCounts]?: number | undefined }): Partial<TokenCounts> {
  return Object.fromEntries(Object.entries(counts).filter(([, value]) => value !== undefined));
}
