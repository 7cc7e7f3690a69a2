/**
 * The readers of metered requests, as a hostile client would use them: every way to get
 * more out of a request than its reservation pays for is either bounded or refused.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ANTHROPIC_TOOL_TOKENS } from "../../src/gateway/anthropic-request.ts";
import { readMeteredRequest, type MeteredEndpoint } from "../../src/gateway/metered-request.ts";
import { BYTES_PER_TOKEN, IMAGE_TOKENS, promptTokensOf, REQUEST_OVERHEAD_TOKENS } from "../../src/gateway/prompt-tokens.ts";
import { isRefusal, type MeteredRequest, type RequestReading } from "../../src/gateway/request-fields.ts";

const chat: MeteredEndpoint = { charge: "metered", api: "chat" };
const completions: MeteredEndpoint = { charge: "metered", api: "completions" };
const responses: MeteredEndpoint = { charge: "metered", api: "responses" };
const embeddings: MeteredEndpoint = { charge: "metered", api: "embeddings" };
const messages: MeteredEndpoint = { charge: "metered", api: "messages" };
const gemini: MeteredEndpoint = { charge: "metered", api: "generate", model: "gemini-2.5-pro" };

const user = [{ role: "user", content: "hello" }];
const functionTool = { type: "function", function: { name: "noop", parameters: { type: "object", properties: {} } } };
const png = `data:image/png;base64,${"iVBORw0KGgo".repeat(3)}`;

function read(endpoint: MeteredEndpoint, body: Record<string, unknown>): MeteredRequest {
  const reading = readMeteredRequest(endpoint, body);
  if (isRefusal(reading)) throw new Error(`refused: ${reading.message}`);
  return reading;
}

function refusalOf(reading: RequestReading): string {
  return isRefusal(reading) ? reading.refusal : "forwarded";
}

describe("OpenAI requests", () => {
  it("chat: the output limit the client named, clamped in whichever field it used, and usage switched on for a stream", () => {
    const request = read(chat, { model: "gpt-5", messages: user, max_tokens: 100, max_completion_tokens: 90_000, stream: true, tools: [functionTool] });
    expect(request).toMatchObject({ model: "gpt-5", maxOutputTokens: 90_000, writesOutput: true });
    expect(request.withOutputLimit(5_000)).toMatchObject({ max_tokens: 100, max_completion_tokens: 5_000, stream_options: { include_usage: true } });
    // Named nowhere: the gateway names it, so the output is bounded.
    expect(read(chat, { model: "m", messages: user }).withOutputLimit(777)).toEqual({ model: "m", messages: user, max_tokens: 777 });
  });

  it("completions: 16 tokens when none are named, as the API has it, and usage for a stream", () => {
    const request = read(completions, { model: "gpt-3.5-turbo-instruct", prompt: "Say hi", stream: true });
    expect(request.maxOutputTokens).toBe(16);
    expect(request.withOutputLimit(16)).toEqual({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi", stream: true, max_tokens: 16, stream_options: { include_usage: true } });
  });

  it("responses: max_output_tokens; embeddings: no output at all", () => {
    expect(read(responses, { model: "gpt-5", input: "hi", store: false }).withOutputLimit(1_234)).toMatchObject({ max_output_tokens: 1_234 });
    const embedding = read(embeddings, { model: "text-embedding-3-small", input: ["a", "b"] });
    expect(embedding.writesOutput).toBe(false);
    expect(embedding.withOutputLimit(0)).toEqual({ model: "text-embedding-3-small", input: ["a", "b"] });
  });

  it("refuses server-side tools, background and stored conversations, several answers, audio and dearer tiers", () => {
    const cases: Array<[MeteredEndpoint, Record<string, unknown>]> = [
      [chat, { tools: [functionTool, { type: "web_search" }] }],
      [chat, { web_search_options: {} }],
      [chat, { n: 3 }],
      [chat, { n: "3" }],
      [chat, { audio: { voice: "alloy", format: "wav" }, modalities: ["text", "audio"] }],
      [chat, { prediction: { type: "content", content: "x" } }],
      [chat, { service_tier: "priority" }],
      [completions, { best_of: 5 }],
      [responses, { background: true }],
      [responses, { background: "true" }],
      [responses, { previous_response_id: "resp_1" }],
      [responses, { conversation: "conv_1" }],
      [responses, { prompt: { id: "pmpt_1" } }],
      ...["web_search", "web_search_preview", "file_search", "code_interpreter", "image_generation", "mcp", "computer_use_preview"].map(
        (type): [MeteredEndpoint, Record<string, unknown>] => [responses, { tools: [{ type }] }],
      ),
    ];
    for (const [endpoint, extra] of cases) expect(refusalOf(readMeteredRequest(endpoint, { model: "gpt-5", messages: user, input: "hi", ...extra })), JSON.stringify(extra)).toBe("unmeterable");
  });

  it("refuses media it cannot bound, and counts inline images at least IMAGE_TOKENS each", () => {
    const parts = (part: unknown) => ({ model: "gpt-5", messages: [{ role: "user", content: [{ type: "text", text: "look" }, part] }] });
    for (const part of [
      { type: "image_url", image_url: { url: "https://example.com/huge.png" } },
      { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
      { type: "file", file: { file_id: "file-1" } },
    ]) {
      expect(refusalOf(readMeteredRequest(chat, parts(part))), JSON.stringify(part)).toBe("unmeterable");
    }
    const text = read(chat, parts({ type: "text", text: "x" })).promptTokens;
    expect(read(chat, parts({ type: "image_url", image_url: { url: png } })).promptTokens).toBeGreaterThanOrEqual(text + IMAGE_TOKENS - png.length);
    for (const item of [{ type: "item_reference", id: "msg_1" }, { role: "user", content: [{ type: "input_image", file_id: "file-1" }] }, { role: "user", content: [{ type: "input_file", file_url: "https://x" }] }]) {
      expect(refusalOf(readMeteredRequest(responses, { model: "gpt-5", input: [item] })), JSON.stringify(item)).toBe("unmeterable");
    }
  });

  it("refuses what it cannot read: no model, output limits that are no positive integer, a stream flag that is no boolean", () => {
    for (const body of [{ messages: user }, { model: "m", max_tokens: "100000" }, { model: "m", max_tokens: 0 }, { model: "m", max_completion_tokens: 1.5 }, { model: "m", stream: "true" }]) {
      expect(refusalOf(readMeteredRequest(chat, body)), JSON.stringify(body)).toBe("invalid_request");
    }
  });

  it("never forwards an output limit above the one it was given, whatever else the body holds", () => {
    const limit = fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined });
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), limit, limit, fc.integer({ min: 1, max: 1_000_000 }), (extra, maxTokens, maxCompletion, clamp) => {
        const body = { ...extra, model: "m", messages: user, max_tokens: maxTokens, max_completion_tokens: maxCompletion, n: 1, tools: [], stream: false };
        const reading = readMeteredRequest(chat, body);
        if (isRefusal(reading)) return;
        const forwarded = JSON.parse(JSON.stringify(reading.withOutputLimit(clamp))) as Record<string, unknown>;
        const limits = [forwarded.max_tokens, forwarded.max_completion_tokens].filter((value) => value !== undefined && value !== null);
        expect(limits.length).toBeGreaterThan(0);
        for (const value of limits) expect(value).toBeLessThanOrEqual(clamp);
      }),
    );
  });
});

describe("Anthropic requests", () => {
  const base = { model: "claude-sonnet-4-5", max_tokens: 64_000, messages: user };

  it("clamps max_tokens, and a thinking budget with it", () => {
    const request = read(messages, { ...base, thinking: { type: "enabled", budget_tokens: 32_000 } });
    expect(request.maxOutputTokens).toBe(64_000);
    expect(request.withOutputLimit(8_000)).toMatchObject({ max_tokens: 8_000, thinking: { type: "enabled", budget_tokens: 7_999 } });
    expect(request.withOutputLimit(40_000)).toMatchObject({ max_tokens: 40_000, thinking: { budget_tokens: 32_000 } });
  });

  it("refuses server tools, MCP servers and containers; lets the client's own tools through, their definitions counted", () => {
    for (const extra of [
      { tools: [{ type: "web_search_20250305", name: "web_search" }] },
      { tools: [{ type: "web_fetch_20250910", name: "web_fetch" }] },
      { tools: [{ type: "code_execution_20250825", name: "code_execution" }] },
      { mcp_servers: [{ type: "url", url: "https://mcp.example.com", name: "x" }] },
      { container: "container_1" },
    ]) {
      expect(refusalOf(readMeteredRequest(messages, { ...base, ...extra })), JSON.stringify(extra)).toBe("unmeterable");
    }
    const plain = read(messages, { ...base, tools: [{ name: "noop", input_schema: { type: "object" } }] });
    const withBash = read(messages, { ...base, tools: [{ name: "noop", input_schema: { type: "object" } }, { type: "bash_20250124", name: "bash" }] });
    expect(withBash.promptTokens).toBeGreaterThanOrEqual(plain.promptTokens + ANTHROPIC_TOOL_TOKENS);
  });

  it("refuses the 1M-context beta and one-hour cache writes, and raises the prompt's bound by the five-minute cache write's surcharge", () => {
    expect(refusalOf(readMeteredRequest(messages, base, { "anthropic-beta": "interleaved-thinking-2025-05-14, context-1m-2025-08-07" }))).toBe("unmeterable");
    expect(refusalOf(readMeteredRequest(messages, base, { "anthropic-beta": ["fine-grained-tool-streaming-2025-05-14", "CONTEXT-1M-2025-08-07"] }))).toBe("unmeterable");
    expect(refusalOf(readMeteredRequest(messages, base, { "anthropic-beta": "interleaved-thinking-2025-05-14" }))).toBe("forwarded");
    const cached = (ttl?: string) => ({ ...base, messages: [{ role: "user", content: [{ type: "text", text: "big", cache_control: { type: "ephemeral", ...(ttl ? { ttl } : {}) } }] }] });
    expect(refusalOf(readMeteredRequest(messages, cached("1h")))).toBe("unmeterable");
    expect(refusalOf(readMeteredRequest(messages, cached("5m")))).toBe("forwarded");
    const body = cached();
    expect(read(messages, body).promptTokens).toBe(Math.ceil((Math.ceil(Buffer.byteLength(JSON.stringify(body)) / BYTES_PER_TOKEN) + REQUEST_OVERHEAD_TOKENS) * 1.25));
  });

  it("refuses images by URL and PDFs, takes text documents and inline images", () => {
    const withPart = (part: unknown) => ({ ...base, messages: [{ role: "user", content: [part] }] });
    expect(refusalOf(readMeteredRequest(messages, withPart({ type: "image", source: { type: "url", url: "https://x/y.png" } })))).toBe("unmeterable");
    expect(refusalOf(readMeteredRequest(messages, withPart({ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } })))).toBe("unmeterable");
    expect(refusalOf(readMeteredRequest(messages, withPart({ type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } })))).toBe("forwarded");
    expect(read(messages, withPart({ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } })).promptTokens).toBeGreaterThan(IMAGE_TOKENS);
  });
});

describe("Google requests", () => {
  const base = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };

  it("takes the model from the path and clamps generationConfig.maxOutputTokens", () => {
    const request = read(gemini, { ...base, generationConfig: { temperature: 0, maxOutputTokens: 65_536 } });
    expect(request).toMatchObject({ model: "gemini-2.5-pro", maxOutputTokens: 65_536 });
    expect(request.withOutputLimit(2_000)).toEqual({ ...base, generationConfig: { temperature: 0, maxOutputTokens: 2_000 } });
    expect(read(gemini, base).withOutputLimit(3_000)).toEqual({ ...base, generationConfig: { maxOutputTokens: 3_000 } });
  });

  it("refuses Google's own tools, cached content, several candidates, non-text output, files by reference and snake_case spellings of what it checks", () => {
    for (const extra of [
      { tools: [{ googleSearch: {} }] },
      { tools: [{ functionDeclarations: [] }, { codeExecution: {} }] },
      { tools: [{ urlContext: {} }] },
      { cachedContent: "cachedContents/abc" },
      { generationConfig: { candidateCount: 4 } },
      { generationConfig: { responseModalities: ["TEXT", "IMAGE"] } },
      { contents: [{ role: "user", parts: [{ fileData: { mimeType: "video/mp4", fileUri: "https://www.youtube.com/watch?v=x" } }] }] },
      { contents: [{ role: "user", parts: [{ inline_data: { mime_type: "audio/ogg", data: "T2dnUw==" } }] }] },
    ]) {
      expect(refusalOf(readMeteredRequest(gemini, { ...base, ...extra })), JSON.stringify(extra)).toBe("unmeterable");
    }
    for (const extra of [{ generation_config: { max_output_tokens: 1_000_000 } }, { generationConfig: { max_output_tokens: 1_000_000 } }, { cached_content: "cachedContents/abc" }]) {
      expect(refusalOf(readMeteredRequest(gemini, { ...base, ...extra })), JSON.stringify(extra)).toBe("invalid_request");
    }
    expect(refusalOf(readMeteredRequest(gemini, { ...base, tools: [{ functionDeclarations: [{ name: "noop" }] }] }))).toBe("forwarded");
  });
});

describe("promptTokensOf", () => {
  it("is at least one token per two bytes of the body, plus the overhead, for any JSON it does not refuse", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (body) => {
        const bound = promptTokensOf(body);
        if ("refusal" in bound) return;
        expect(bound.tokens).toBeGreaterThanOrEqual(Math.ceil(Buffer.byteLength(JSON.stringify(body)) / BYTES_PER_TOKEN) + REQUEST_OVERHEAD_TOKENS);
      }),
    );
  });

  it("takes a prompt of a million token ids, and refuses (never throws on) a body nested deeper than the call stack", () => {
    expect(promptTokensOf({ prompt: Array.from({ length: 1_000_000 }, (_, index) => index) })).toHaveProperty("tokens");
    const deep = JSON.parse(`{"messages":${"[".repeat(500_000)}${"]".repeat(500_000)}}`) as unknown;
    expect(promptTokensOf(deep)).toHaveProperty("refusal");
    let nested: unknown = "end";
    for (let depth = 0; depth < 2_000; depth += 1) nested = [nested];
    expect(promptTokensOf({ nested })).toHaveProperty("tokens");
  });
});
