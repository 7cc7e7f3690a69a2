import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gatewayErrorOf } from "../../src/gateway/gateway-errors.ts";
import { withUsageReported } from "../../src/gateway/openai-request.ts";
import { costInMicroUsd } from "../../src/gateway/pricing.ts";
import { microsOf } from "../../src/budget.ts";
import { createUsageMeter, usageOfEvent } from "../../src/gateway/usage-meter.ts";

const SSE = "text/event-stream; charset=utf-8";

function sse(events: ReadonlyArray<{ event?: string; data: unknown }>, newline = "\n"): string {
  return events.map(({ event, data }) => `${event ? `event: ${event}${newline}` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}${newline}${newline}`).join("");
}

function meter(contentType: string | null, ...chunks: Array<string | Uint8Array>) {
  const usage = createUsageMeter(contentType);
  for (const chunk of chunks) usage.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
  return usage.finish();
}

const openAiStream = sse([
  { data: { choices: [{ index: 0, delta: { role: "assistant", content: "" } }], usage: null } },
  { data: { choices: [{ index: 0, delta: { content: "Grüße, 世界 🌍" } }], usage: null } },
  { data: { choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null } },
  { data: { choices: [], usage: { prompt_tokens: 1_234, completion_tokens: 56, total_tokens: 1_290 } } },
  { data: "[DONE]" },
]);

const anthropicStream = sse([
  { event: "message_start", data: { type: "message_start", message: { id: "msg_1", usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 1_000, output_tokens: 1 } } } },
  { event: "ping", data: { type: "ping" } },
  { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } } },
  { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 15 } } },
  { event: "message_delta", data: { type: "message_delta", delta: {}, usage: { output_tokens: 42 } } },
  { event: "message_stop", data: { type: "message_stop" } },
]);

const googleStream = sse([
  { data: { candidates: [{ content: { parts: [{ text: "Hi" }] } }], usageMetadata: { promptTokenCount: 300 } } },
  { data: { candidates: [{ content: { parts: [{ text: " there" }] }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 300, candidatesTokenCount: 7, thoughtsTokenCount: 20 } } },
]);

describe("the usage meter", () => {
  it("reads the final usage chunk of an OpenAI chat stream", () => {
    expect(meter(SSE, openAiStream)).toEqual({ tokensIn: 1_234, tokensOut: 56, reported: true });
  });

  it("reads an OpenAI JSON answer and a Responses API stream", () => {
    const body = { id: "chatcmpl-1", choices: [], usage: { prompt_tokens: 10, completion_tokens: 3 } };
    expect(meter("application/json", JSON.stringify(body))).toEqual({ tokensIn: 10, tokensOut: 3, reported: true });
    const responses = sse([
      { event: "response.created", data: { type: "response.created", response: { usage: null } } },
      { event: "response.completed", data: { type: "response.completed", response: { usage: { input_tokens: 70, output_tokens: 9 } } } },
    ]);
    expect(meter(SSE, responses)).toEqual({ tokensIn: 70, tokensOut: 9, reported: true });
  });

  it("counts Anthropic input from message_start (cache reads and writes included) and output from the last message_delta", () => {
    expect(meter(SSE, anthropicStream)).toEqual({ tokensIn: 1_125, tokensOut: 42, cacheWriteTokens: 100, reported: true });
    const json = { type: "message", content: [], usage: { input_tokens: 8, output_tokens: 4 } };
    expect(meter("application/json", JSON.stringify(json))).toEqual({ tokensIn: 8, tokensOut: 4, reported: true });
  });

  it("reads Google's usageMetadata, thinking tokens as output, from SSE and from a streamed JSON array", () => {
    expect(meter(SSE, googleStream)).toEqual({ tokensIn: 300, tokensOut: 27, reported: true });
    const array = [{ usageMetadata: { promptTokenCount: 5 } }, { candidates: [{ finishReason: "MAX_TOKENS" }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2 } }];
    expect(meter("application/json; charset=UTF-8", JSON.stringify(array))).toEqual({ tokensIn: 5, tokensOut: 2, reported: true });
  });

  it("takes CRLF lines, and a last event the stream did not close with a blank line", () => {
    expect(meter(SSE, openAiStream.replaceAll("\n", "\r\n"))).toEqual({ tokensIn: 1_234, tokensOut: 56, reported: true });
    expect(meter(SSE, `data: ${JSON.stringify({ usage: { prompt_tokens: 4, completion_tokens: 2 } })}`)).toEqual({ tokensIn: 4, tokensOut: 2, reported: true });
  });

  it("reads nothing from error bodies, junk and nonsense counts", () => {
    expect(meter("application/json", JSON.stringify({ error: { message: "overloaded" } }))).toEqual({ tokensIn: 0, tokensOut: 0, reported: false });
    expect(meter(SSE, "data: {not json\n\n", "data: [DONE]\n\n")).toEqual({ tokensIn: 0, tokensOut: 0, reported: false });
    expect(meter("text/plain", "Bad Gateway")).toEqual({ tokensIn: 0, tokensOut: 0, reported: false });
    expect(usageOfEvent({ usage: { prompt_tokens: -5, completion_tokens: Number.NaN } })).toEqual({});
    expect(usageOfEvent(null)).toEqual({});
  });

  it("tells a final usage report from the running counts an answer cut off early leaves behind", () => {
    const anthropicStart = anthropicStream.slice(0, anthropicStream.indexOf("event: content_block_delta"));
    expect(meter(SSE, anthropicStart)).toEqual({ tokensIn: 1_125, tokensOut: 1, cacheWriteTokens: 100, reported: false });
    expect(meter(SSE, googleStream.slice(0, googleStream.indexOf("\n\n") + 2))).toEqual({ tokensIn: 300, tokensOut: 0, reported: false });
    const chunksOnly = openAiStream.slice(0, openAiStream.indexOf('data: {"choices":[],"usage"'));
    expect(meter(SSE, chunksOnly)).toEqual({ tokensIn: 0, tokensOut: 0, reported: false });
    const responsesStarted = sse([{ event: "response.created", data: { type: "response.created", response: { usage: null } } }]);
    expect(meter(SSE, responsesStarted)).toEqual({ tokensIn: 0, tokensOut: 0, reported: false });
    expect(usageOfEvent({ usage: {} })).toEqual({});
    expect(usageOfEvent({ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: 9 } })).toEqual({ tokensIn: 9, final: true });
  });

  it("gives the same usage however the bytes are cut into chunks, even inside a character", () => {
    const streams = fc.constantFrom(
      { contentType: SSE, bytes: Buffer.from(openAiStream), usage: { tokensIn: 1_234, tokensOut: 56, reported: true } },
      { contentType: SSE, bytes: Buffer.from(anthropicStream.replaceAll("\n", "\r\n")), usage: { tokensIn: 1_125, tokensOut: 42, cacheWriteTokens: 100, reported: true } },
      { contentType: SSE, bytes: Buffer.from(googleStream), usage: { tokensIn: 300, tokensOut: 27, reported: true } },
    );
    fc.assert(
      fc.property(streams, fc.array(fc.nat(), { maxLength: 40 }), ({ contentType, bytes, usage }, cuts) => {
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((start, index) => bytes.subarray(start, [...points, bytes.length][index]));
        expect(meter(contentType, ...chunks)).toEqual(usage);
      }),
    );
  });
});

describe("pricing", () => {
  it("prices tokens in micro-dollars: a dollar per million tokens is a micro-dollar per token", () => {
    expect(costInMicroUsd({ tokensIn: 1_000_000, tokensOut: 0 }, { inputPerMillion: 1.25, outputPerMillion: 10 })).toBe(1_250_000);
    expect(costInMicroUsd({ tokensIn: 1_000, tokensOut: 500 }, { inputPerMillion: 0.15, outputPerMillion: 0.6 })).toBe(450);
    expect(costInMicroUsd({ tokensIn: 3, tokensOut: 1 }, { inputPerMillion: 0.1, outputPerMillion: 0.4 })).toBe(1);
    expect(costInMicroUsd({ tokensIn: 1_000, tokensOut: 500 }, undefined)).toBe(0);
    expect(costInMicroUsd({ tokensIn: Number.NaN, tokensOut: -1 }, { inputPerMillion: 1, outputPerMillion: 1 })).toBe(0);
  });

  it("charges Anthropic's cache writes a quarter more than plain input, and never more writes than input", () => {
    expect(costInMicroUsd({ tokensIn: 10_000, tokensOut: 0, cacheWriteTokens: 8_000 }, { inputPerMillion: 3, outputPerMillion: 15 })).toBe(3 * 2_000 + 3.75 * 8_000);
    expect(costInMicroUsd({ tokensIn: 100, tokensOut: 0, cacheWriteTokens: 1_000_000 }, { inputPerMillion: 4, outputPerMillion: 0 })).toBe(500);
  });

  it("turns a budget in dollars into micro-dollars, junk into zero", () => {
    expect(microsOf(5)).toBe(5_000_000);
    expect(microsOf(0.1 + 0.2)).toBe(300_000);
    expect(microsOf(Number.NaN)).toBe(0);
    expect(microsOf(-1)).toBe(0);
  });
});

describe("usage reports of OpenAI streams", () => {
  it("are switched on for streamed chat and completions requests, keeping their other stream options", () => {
    const body = { model: "m", stream: true, stream_options: { other: 1 }, messages: [] };
    expect(withUsageReported("chat", body)).toEqual({ model: "m", stream: true, stream_options: { other: 1, include_usage: true }, messages: [] });
    expect(withUsageReported("completions", { model: "m", stream: true, prompt: "x" })).toEqual({ model: "m", stream: true, prompt: "x", stream_options: { include_usage: true } });
  });

  it("are left alone where the answer reports usage anyway", () => {
    for (const [api, body] of [["chat", { model: "m", stream: false }], ["completions", { model: "m" }], ["responses", { model: "m", stream: true }]] as const) {
      expect(withUsageReported(api, body)).toBe(body);
    }
  });
});

describe("gateway errors", () => {
  it("speaks each provider's error shape, with a code to tell the gateway's refusals apart", () => {
    expect(gatewayErrorOf("openai", "budget_exceeded", "spent")).toEqual({ status: 402, body: { error: { message: "spent", type: "gateway_budget_exceeded", code: "gateway_budget_exceeded" } } });
    expect(gatewayErrorOf("anthropic", "unauthenticated", "no")).toEqual({ status: 401, body: { type: "error", error: { type: "gateway_unauthenticated", message: "no" } } });
    expect(gatewayErrorOf("google", "budget_exceeded", "spent")).toEqual({ status: 402, body: { error: { code: 402, message: "spent", status: "RESOURCE_EXHAUSTED" } } });
    expect(gatewayErrorOf("anthropic", "model_not_allowed", "no")).toEqual({ status: 403, body: { type: "error", error: { type: "gateway_model_not_allowed", message: "no" } } });
    expect(gatewayErrorOf("openai", "unmeterable", "no")).toMatchObject({ status: 400, body: { error: { code: "gateway_unmeterable" } } });
  });
});
