/**
 * The gateway over HTTP, with a real database, in front of the scripted model (behind a
 * recording tap, to see the headers the provider gets) and of fake Anthropic, Google and
 * raw providers for what the scripted model does not speak.
 */
import type { ServerResponse } from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindGatewayToken, issueGatewayToken, issueSpareGatewayToken, findGatewayToken, revokeGatewayTokens, settleReservation, type IssuedGatewayToken } from "../../src/gateway/gateway-tokens.ts";
import { createModelGateway, type GatewayProvider } from "../../src/gateway/model-gateway.ts";
import { findFreePort } from "../../src/free-port.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { startModelServer, type ModelRequest, type ModelServer, type Turn } from "../fakes/model-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { jobFixture } from "../support/job-fixture.ts";
import { proxyTo, sendEvents, startFakeProvider, type FakeProvider, type ProviderRequest } from "./fake-provider.ts";
import { capturedLogger, startGatewayServer, type GatewayServer } from "./gateway-server.ts";

const OPENAI_KEY = "sk-real-openai-key-0123456789abcdefghij";
const ANTHROPIC_KEY = "sk-ant-real-anthropic-key-0123456789";
const GOOGLE_KEY = "AIza-real-google-key-0123456789abcdefg";
const RAW_KEY = "raw-provider-real-key-0123456789";

/** `[usage:IN:OUT]` answers with that usage; `[fail:STATUS]` with an HTTP error. */
function scenario(request: ModelRequest): Turn {
  const usage = /\[usage:(\d+):(\d+)\]/.exec(request.lastUserText);
  if (usage) return { text: "ok", usage: { prompt_tokens: Number(usage[1]), completion_tokens: Number(usage[2]) } };
  const fail = /\[fail:(\d+)\]/.exec(request.lastUserText);
  if (fail) return { status: Number(fail[1]), body: { error: { message: "upstream is overloaded", type: "server_error" } }, retryAfterMs: 1234 };
  return { text: "no scenario" };
}

let database: TestDatabase;
let model: ModelServer;
let tap: FakeProvider;
let anthropic: FakeProvider;
let google: FakeProvider;
let raw: FakeProvider;
let rawRespond: (request: ProviderRequest, res: ServerResponse) => void | Promise<void>;
let gateway: GatewayServer;
let providers: Record<string, GatewayProvider>;
const captured = capturedLogger();
const issued: string[] = [];

async function newToken(options: { budgetUsd?: number; ttlMs?: number } = {}): Promise<IssuedGatewayToken> {
  const { id: _id, ...job } = jobFixture();
  const [row] = await database.db.insert(jobs).values(job).returning({ id: jobs.id });
  const token = await issueGatewayToken(database.db, { jobId: row!.id, budgetUsd: options.budgetUsd ?? 5, ttlMs: options.ttlMs ?? 3_600_000 });
  issued.push(token.token);
  return token;
}

const noopTool = { type: "function", function: { name: "noop", description: "does nothing", parameters: { type: "object", properties: {} } } };

function chat(token: string | null, text: string, options: { stream?: boolean; provider?: string; base?: string; signal?: AbortSignal } = {}): Promise<Response> {
  const body = { model: "m", stream: options.stream ?? true, messages: [{ role: "user", content: text }], tools: [noopTool], max_tokens: 8_192 };
  return fetch(`${options.base ?? gateway.url}/gateway/${options.provider ?? "scripted"}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: options.signal,
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  model = await startModelServer(scenario);
  tap = await startFakeProvider(proxyTo(new URL(model.baseUrl).origin));
  anthropic = await startFakeProvider((_request, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    sendEvents(res, [
      { event: "message_start", data: { type: "message_start", message: { usage: { input_tokens: 2_000, cache_read_input_tokens: 1_000, output_tokens: 1 } } } },
      { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } } },
      { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 100 } } },
      { event: "message_stop", data: { type: "message_stop" } },
    ]);
    res.end();
  });
  google = await startFakeProvider((_request, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    sendEvents(res, [
      { data: { candidates: [{ content: { parts: [{ text: "Hi" }] } }], usageMetadata: { promptTokenCount: 4_000 } } },
      { data: { candidates: [{ content: { parts: [{ text: "!" }] }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 4_000, candidatesTokenCount: 50, thoughtsTokenCount: 150 } } },
    ]);
    res.end();
  });
  raw = await startFakeProvider((request, res) => rawRespond(request, res));
  providers = {
    scripted: { baseUrl: tap.baseUrl, apiKey: OPENAI_KEY, kind: "openai", pricing: { inputPerMillion: 1, outputPerMillion: 2 }, models: { m: {} } },
    anthropic: { baseUrl: anthropic.baseUrl, apiKey: ANTHROPIC_KEY, kind: "anthropic", pricing: { inputPerMillion: 3, outputPerMillion: 15 }, models: { claude: {} } },
    // A base path of its own, to see the client's path appended to it.
    google: { baseUrl: `${google.baseUrl}/google/`, apiKey: GOOGLE_KEY, kind: "google", pricing: { inputPerMillion: 1.25, outputPerMillion: 10 }, models: { "gemini-2.5-pro": {} } },
    raw: { baseUrl: raw.baseUrl, apiKey: RAW_KEY, kind: "openai", pricing: { inputPerMillion: 1, outputPerMillion: 2 }, models: { m: {} } },
    down: { baseUrl: `http://127.0.0.1:${await findFreePort()}`, apiKey: RAW_KEY, kind: "openai", pricing: { inputPerMillion: 1, outputPerMillion: 2 }, models: { m: {} } },
  };
  gateway = await startGatewayServer(createModelGateway({ db: database.db, providers, log: captured.log }));
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([model, tap, anthropic, google, raw].map((server) => server?.close()));
  await database?.drop();
});

describe("the model gateway forwards", () => {
  it("with the real key in place of the job's token, and charges the usage of the stream", async () => {
    const { token, tokenHash } = await newToken();
    const response = await chat(token, "[usage:1000:100] hello");

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    expect(text).toContain('"content":"ok"');
    expect(text).toContain('"prompt_tokens":1000');
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const seen = tap.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(JSON.stringify(tap.requests)).not.toContain("rag_");
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 1_000 + 2 * 100, reservedMicroUsd: 0, tokensIn: 1_000, tokensOut: 100, requests: 1 });
  });

  it("asks for the usage chunk of a stream whose client did not, so that it can be charged", async () => {
    const { token } = await newToken();
    await (await chat(token, "[usage:5:5] no stream options")).text();
    expect(model.requests.at(-1)?.stream_options).toEqual({ include_usage: true });
  });

  it("charges a JSON answer from its usage", async () => {
    const { token, tokenHash } = await newToken();
    const response = await chat(token, "[usage:300:20] json please", { stream: false });

    expect(response.status).toBe(200);
    expect(((await response.json()) as { usage: unknown }).usage).toMatchObject({ prompt_tokens: 300, completion_tokens: 20 });
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 340, requests: 1 });
  });

  it("streams server-sent events as they come: the first reaches the client before the provider has finished", async () => {
    const { token, tokenHash } = await newToken();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let providerFinished = false;
    rawRespond = async (_request, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      sendEvents(res, [{ data: { choices: [{ index: 0, delta: { content: "first" } }] } }]);
      await released;
      sendEvents(res, [{ data: { choices: [], usage: { prompt_tokens: 7, completion_tokens: 3 } } }]);
      res.end("data: [DONE]\n\n");
      providerFinished = true;
    };

    const response = await chat(token, "stream slowly", { provider: "raw" });
    const reader = response.body!.getReader();
    // Were the answer buffered, this read would wait for a release that only comes after it.
    const first = await Promise.race([reader.read(), deadline(10_000, "the first chunk")]);
    expect(new TextDecoder().decode(first.value)).toContain('"content":"first"');
    expect(providerFinished).toBe(false);
    release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);

    expect(rest).toContain('"prompt_tokens":7');
    expect(providerFinished).toBe(true);
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 7 + 6, tokensIn: 7, tokensOut: 3 });
  });

  it("to Anthropic's messages API, taking the token from x-api-key and counting cache reads as input", async () => {
    const { token, tokenHash } = await newToken();
    const response = await fetch(`${gateway.url}/gateway/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": token, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude", stream: true, max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });

    expect(response.status).toBe(200);
    expect(await response.text()).toContain("message_stop");
    const seen = anthropic.requests.at(-1)!;
    expect(seen).toMatchObject({ method: "POST", url: "/v1/messages" });
    expect(seen.headers).toMatchObject({ "x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01" });
    expect(seen.headers.authorization).toBeUndefined();
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 3 * 3_000 + 15 * 100, tokensIn: 3_000, tokensOut: 100 });
  });

  it("to Google's streamGenerateContent, taking the token from x-goog-api-key and counting thoughts as output", async () => {
    const { token, tokenHash } = await newToken();
    const response = await fetch(`${gateway.url}/gateway/google/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": token },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });

    expect(response.status).toBe(200);
    await response.text();
    const seen = google.requests.at(-1)!;
    expect(seen.url).toBe("/google/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    expect(seen.headers["x-goog-api-key"]).toBe(GOOGLE_KEY);
    expect(JSON.stringify(seen.headers)).not.toContain(token);
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 1.25 * 4_000 + 10 * 200, tokensIn: 4_000, tokensOut: 200 });
  });

  it("no further than the client: a client that goes away cuts the provider off", async () => {
    const { token } = await newToken();
    let providerCutOff!: () => void;
    const cutOff = new Promise<void>((resolve) => (providerCutOff = resolve));
    rawRespond = (_request, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      sendEvents(res, [{ data: { choices: [{ index: 0, delta: { content: "first" } }] } }]);
      // Never ends by itself, like a model writing a very long answer.
      res.on("close", providerCutOff);
    };
    const client = new AbortController();
    const response = await chat(token, "write forever", { provider: "raw", signal: client.signal });
    await response.body!.getReader().read();
    client.abort();

    await cutOff;
  });

  it("an upstream 5xx unchanged, headers included (opencode retries those itself)", async () => {
    const { token, tokenHash } = await newToken();
    const response = await chat(token, "[fail:503] please");

    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after-ms")).toBe("1234");
    expect(await response.json()).toEqual({ error: { message: "upstream is overloaded", type: "server_error" } });
    // Providers bill no failed request: its reservation is released.
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 0, reservedMicroUsd: 0, requests: 1 });
  });

  it("and charges concurrent requests of one job exactly", async () => {
    const usage = fc.record({ tokensIn: fc.nat(100_000), tokensOut: fc.nat(20_000) });
    await fc.assert(
      fc.asyncProperty(fc.array(usage, { minLength: 1, maxLength: 8 }), async (usages) => {
        const { token, tokenHash } = await newToken({ budgetUsd: 1_000 });
        const responses = await Promise.all(usages.map((one) => chat(token, `[usage:${one.tokensIn}:${one.tokensOut}]`)));
        await Promise.all(responses.map((response) => response.text()));
        expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({
          spentMicroUsd: usages.reduce((sum, one) => sum + one.tokensIn * 1 + one.tokensOut * 2, 0),
          tokensIn: usages.reduce((sum, one) => sum + one.tokensIn, 0),
          tokensOut: usages.reduce((sum, one) => sum + one.tokensOut, 0),
          requests: usages.length,
        });
      }),
      { numRuns: 10 },
    );
  });
});

describe("the model gateway refuses", () => {
  it("401 without a token, with a malformed one, or one it never issued; nothing reaches the provider", async () => {
    const before = tap.requests.length;
    for (const token of [null, "not-a-token", `rag_${"A".repeat(43)}`]) {
      const response = await chat(token, "[usage:1:1]");
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: { message: expect.stringContaining("unknown, revoked or expired"), type: "gateway_unauthenticated", code: "gateway_unauthenticated" } });
    }
    expect(tap.requests.length).toBe(before);
  });

  it("401 for a warm agent's token until a job takes the agent, then charges that job", async () => {
    const spare = await issueSpareGatewayToken(database.db, { ttlMs: 3_600_000 });
    issued.push(spare.token);
    const before = tap.requests.length;
    const refused = await chat(spare.token, "[usage:1:1]");
    expect(refused.status).toBe(401);
    expect(JSON.stringify(await refused.json())).toContain("no job has taken that agent yet");
    expect(tap.requests.length).toBe(before);

    const { id: _id, ...job } = jobFixture();
    const [row] = await database.db.insert(jobs).values(job).returning({ id: jobs.id });
    expect(await bindGatewayToken(database.db, spare.tokenHash, { jobId: row!.id, budgetUsd: 1, ttlMs: 60_000 })).toBe(true);
    const answered = await chat(spare.token, "[usage:1:1]");
    expect(answered.status).toBe(200);
    await answered.text();
    expect(await findGatewayToken(database.db, spare.tokenHash)).toMatchObject({ jobId: row!.id, requests: 1 });
  });

  it("401 once the job's tokens are revoked", async () => {
    const { token, tokenHash } = await newToken();
    expect((await chat(token, "[usage:1:1]")).status).toBe(200);
    const jobId = (await findGatewayToken(database.db, tokenHash))!.jobId;
    await revokeGatewayTokens(database.db, jobId!);

    const response = await chat(token, "[usage:1:1]");
    expect(response.status).toBe(401);
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ requests: 1 });
  });

  it("401 from the moment the token expires", async () => {
    const { token, expiresAt } = await newToken({ ttlMs: 60_000 });
    const at = (time: number) => startGatewayServer(createModelGateway({ db: database.db, providers, log: captured.log, now: () => new Date(time) }));
    const before = await at(expiresAt.getTime() - 1);
    const expired = await at(expiresAt.getTime());
    try {
      expect((await chat(token, "[usage:1:1]", { base: before.url })).status).toBe(200);
      expect((await chat(token, "[usage:1:1]", { base: expired.url })).status).toBe(401);
    } finally {
      await Promise.all([before.close(), expired.close()]);
    }
  });

  it("402 once the budget is spent, in the client's error shape; nothing reaches the provider", async () => {
    const { token, tokenHash } = await newToken({ budgetUsd: 0.05 });
    await settleReservation(database.db, tokenHash, 0, { microUsd: 50_000, tokensIn: 0, tokensOut: 0, counted: true });
    const sent = model.requests.length;

    const refused = await chat(token, "[usage:1:1] one more");
    expect(refused.status).toBe(402);
    expect(await refused.json()).toEqual({
      error: { message: "This job's model budget of $0.0500 is spent ($0.0500 used); no more model requests are forwarded.", type: "gateway_budget_exceeded", code: "gateway_budget_exceeded" },
    });
    const anthropicRefusal = await fetch(`${gateway.url}/gateway/anthropic/v1/messages`, { method: "POST", headers: { "x-api-key": token }, body: "{}" });
    expect(anthropicRefusal.status).toBe(402);
    expect(await anthropicRefusal.json()).toMatchObject({ type: "error", error: { type: "gateway_budget_exceeded" } });
    expect(model.requests.length).toBe(sent);
  });

  it("402 when what is left cannot pay for the prompt and a minimal answer, saying what it needs", async () => {
    const { token, tokenHash } = await newToken({ budgetUsd: 0.003 });
    const sent = model.requests.length;

    const refused = await chat(token, "[usage:1:1] a prompt of about 1,200 tokens and a 1,000-token answer need $0.0032");
    expect(refused.status).toBe(402);
    const { error } = (await refused.json()) as { error: { message: string; type: string } };
    expect(error.type).toBe("gateway_budget_exceeded");
    expect(error.message).toMatch(/^This job's model budget of \$0\.0030 cannot pay for this request: \$0\.00 is spent, \$0\.00 is held by requests in flight, and the request needs at least \$0\.003\d \(its prompt and a 1,000-token answer\); it is not forwarded\.$/);
    expect(model.requests.length).toBe(sent);
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 0, reservedMicroUsd: 0, requests: 0 });
  });

  it("400 for a body that is not a JSON object, rather than let the provider read it its own way", async () => {
    const { token } = await newToken();
    const before = raw.requests.length;
    for (const body of ['{"model": "m", "stream": true, "messages": [', "[1,2]", "null"]) {
      const response = await fetch(`${gateway.url}/gateway/raw/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe("gateway_invalid_request");
    }
    expect(raw.requests.length).toBe(before);
  });

  it("404 for a provider it does not know, and leaves other paths alone", async () => {
    const { token } = await newToken();
    const response = await chat(token, "[usage:1:1]", { provider: "nope" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('no provider "nope"');
    expect((await fetch(`${gateway.url}/gateway/`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/api/health`)).status).toBe(418);
  });

  it("404 for anything but a model call (the real key could list, upload and delete the account's files)", async () => {
    const { token } = await newToken();
    const before = raw.requests.length;
    for (const [method, path] of [["GET", "/v1/files"], ["DELETE", "/v1/files/file-1"], ["POST", "/v1/fine_tuning/jobs"], ["POST", "/v1beta/cachedContents"]] as const) {
      const response = await fetch(`${gateway.url}/gateway/raw${path}`, { method, headers: { authorization: `Bearer ${token}` }, ...(method === "POST" ? { body: "{}" } : {}) });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(`The model gateway forwards model calls only, not ${method} ${path}.`);
    }
    expect(raw.requests.length).toBe(before);
  });

  it("502 when the provider cannot be reached", async () => {
    const { token, tokenHash } = await newToken();
    const response = await chat(token, "[usage:1:1]", { provider: "down" });
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("gateway_bad_gateway");
    // The provider never saw it: the reservation is released, nothing charged.
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ requests: 0, spentMicroUsd: 0, reservedMicroUsd: 0 });
  });
});

it("never writes a job's token or a provider key to its log", () => {
  const log = captured.lines.join("");
  expect(log).toContain("model request forwarded");
  expect(issued.length).toBeGreaterThan(5);
  for (const secret of [...issued, OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY, RAW_KEY]) expect(log).not.toContain(secret);
});

function deadline(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref());
}
