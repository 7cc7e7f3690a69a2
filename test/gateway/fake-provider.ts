/**
 * A stand-in for a model provider behind the gateway: it records each request as it
 * arrived (headers and raw body: the scripted model server keeps neither) and answers
 * with the test's `respond`, or passes the request on to the scripted model (`proxyTo`).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";

export interface ProviderRequest {
  method: string;
  /** Path and query, as the provider got them. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Respond = (request: ProviderRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeProvider {
  /** `http://127.0.0.1:PORT`: a gateway provider's baseUrl. */
  baseUrl: string;
  requests: ProviderRequest[];
  close(): Promise<void>;
}

export async function startFakeProvider(respond: Respond): Promise<FakeProvider> {
  const requests: ProviderRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      void Promise.resolve(respond(request, res)).catch((error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Pass each request on to `origin` (the scripted model server) and stream its answer back. */
export function proxyTo(origin: string): Respond {
  return async (request, res) => {
    const body = request.method === "GET" || request.method === "HEAD" ? null : request.body;
    const answer = await fetch(`${origin}${request.url}`, { method: request.method, headers: { "content-type": "application/json" }, body });
    res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => name !== "content-length" && name !== "transfer-encoding")));
    res.flushHeaders();
    if (answer.body) await pipeline(Readable.fromWeb(answer.body as NodeReadableStream<Uint8Array>), res);
    else res.end();
  };
}

/** Write server-sent events, one JSON object each. */
export function sendEvents(res: ServerResponse, events: ReadonlyArray<{ event?: string; data: unknown }>): void {
  for (const { event, data } of events) res.write(`${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
}

/**
 * A minimal streamed answer in the provider's own format, for opencode's built-in
 * providers: Google `…:streamGenerateContent`, Anthropic `/messages`, OpenAI `/responses`.
 * Each says "hi from <provider>" and reports 10 tokens in, 3 out.
 */
export const answerNatively: Respond = (request, res) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  if (request.url.includes(":streamGenerateContent")) {
    const candidates = [{ content: { role: "model", parts: [{ text: "hi from google" }] }, finishReason: "STOP" }];
    sendEvents(res, [{ data: { candidates, usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 13 } } }]);
  } else if (request.url.endsWith("/messages")) {
    sendEvents(res, [
      { event: "message_start", data: { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude", content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } } } },
      { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } },
      { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi from anthropic" } } },
      { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
      { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 3 } } },
      { event: "message_stop", data: { type: "message_stop" } },
    ]);
  } else {
    const message = { type: "message", id: "msg_1", role: "assistant", content: [] as unknown[] };
    const text = { type: "output_text", text: "hi from openai", annotations: [] };
    const events = [
      { type: "response.created", response: { id: "resp_1", created_at: 1, model: "gpt", output: [] } },
      { type: "response.output_item.added", output_index: 0, item: message },
      { type: "response.output_text.delta", item_id: "msg_1", output_index: 0, content_index: 0, delta: text.text },
      { type: "response.output_item.done", output_index: 0, item: { ...message, content: [text] } },
      { type: "response.completed", response: { id: "resp_1", created_at: 1, model: "gpt", output: [], usage: { input_tokens: 10, output_tokens: 3 } } },
    ];
    sendEvents(res, events.map((data) => ({ event: data.type, data })));
  }
  res.end();
};
