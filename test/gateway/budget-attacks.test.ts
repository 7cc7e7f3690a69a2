/**
 * The security review's budget bypasses, each tried by a client holding a job's token
 * against the gateway over HTTP, with a real database and fake providers that bill the
 * way the real ones do (a model writes as much as its output limit lets it). Each test
 * failed before the gateway reserved worst cases.
 */
import type { ServerResponse } from "node:http";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGatewayToken, issueGatewayToken, type IssuedGatewayToken } from "../../src/gateway/gateway-tokens.ts";
import { createModelGateway, type GatewayProvider } from "../../src/gateway/model-gateway.ts";
import { REQUEST_OVERHEAD_TOKENS } from "../../src/gateway/prompt-tokens.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { jobFixture } from "../support/job-fixture.ts";
import { waitUntil } from "../support/wait-until.ts";
import { sendEvents, startFakeProvider, type FakeProvider, type ProviderRequest } from "./fake-provider.ts";
import { startGatewayServer, type GatewayServer } from "./gateway-server.ts";

type Respond = (request: ProviderRequest, res: ServerResponse) => void | Promise<void>;

let database: TestDatabase;
let gateway: GatewayServer;
let openai: FakeProvider;
let anthropic: FakeProvider;
let google: FakeProvider;
let openaiRespond: Respond;
let anthropicRespond: Respond;

beforeAll(async () => {
  database = await createTestDatabase();
  openai = await startFakeProvider((request, res) => openaiRespond(request, res));
  anthropic = await startFakeProvider((request, res) => anthropicRespond(request, res));
  // Every request to Google here is one the gateway must refuse.
  google = await startFakeProvider((_request, res) => void res.writeHead(500).end());
  const providers: Record<string, GatewayProvider> = {
    openai: { baseUrl: openai.baseUrl, apiKey: "sk-openai", kind: "openai", pricing: { inputPerMillion: 1, outputPerMillion: 2 }, models: { m: {}, "dear-model": { pricing: { inputPerMillion: 100, outputPerMillion: 400 } } } },
    anthropic: { baseUrl: anthropic.baseUrl, apiKey: "sk-ant", kind: "anthropic", pricing: { inputPerMillion: 3, outputPerMillion: 15 }, models: { "claude-sonnet-4-5": { maxOutputTokens: 64_000 } } },
    google: { baseUrl: google.baseUrl, apiKey: "AIza", kind: "google", models: { "gemini-2.5-flash": { pricing: { inputPerMillion: 0.3, outputPerMillion: 2.5 } } } },
  };
  gateway = await startGatewayServer(createModelGateway({ db: database.db, providers, log: pino({ level: "silent" }) }));
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openai, anthropic, google].map((server) => server?.close()));
  await database?.drop();
});

async function newToken(budgetUsd: number): Promise<IssuedGatewayToken> {
  const { id: _id, ...job } = jobFixture();
  const [row] = await database.db.insert(jobs).values(job).returning({ id: jobs.id });
  return issueGatewayToken(database.db, { jobId: row!.id, budgetUsd, ttlMs: 3_600_000 });
}

function post(token: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gateway.url}/gateway${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-api-key": token }, body: JSON.stringify(body), signal });
}

/** An OpenAI chat answer that writes as much as the request's output limit allows, as a long-winded model would. */
const writesToTheLimit: Respond = (request, res) => {
  const body = JSON.parse(request.body.toString("utf8")) as { max_tokens?: number };
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: "…" }, finish_reason: "length" }], usage: { prompt_tokens: 1_000, completion_tokens: body.max_tokens ?? 1_000_000 } }));
};

const user = [{ role: "user", content: "Write forever." }];

/** Tokens the gateway bounds a prompt by: one per two bytes of the body, and the overhead. */
function promptBoundOf(body: unknown): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 2) + REQUEST_OVERHEAD_TOKENS;
}

describe("the model gateway's budget cannot be bypassed by", () => {
  it("streaming /v1/completions: the gateway asks for its usage and charges it; an answer that still brings none keeps its reservation", async () => {
    // Like OpenAI: a streamed completion reports usage only when the request asks for it.
    openaiRespond = (request, res) => {
      const body = JSON.parse(request.body.toString("utf8")) as { prompt: string; stream_options?: { include_usage?: boolean } };
      res.writeHead(200, { "content-type": "text/event-stream" });
      sendEvents(res, [
        { data: { id: "cmpl-1", object: "text_completion", choices: [{ index: 0, text: "Hi", finish_reason: null }] } },
        { data: { id: "cmpl-1", object: "text_completion", choices: [{ index: 0, text: "", finish_reason: "length" }] } },
      ]);
      if (body.stream_options?.include_usage && !body.prompt.includes("ignore")) sendEvents(res, [{ data: { id: "cmpl-1", choices: [], usage: { prompt_tokens: 5, completion_tokens: 16 } } }]);
      res.end("data: [DONE]\n\n");
    };
    const { token, tokenHash } = await newToken(1);
    const response = await post(token, "/openai/v1/completions", { model: "m", prompt: "Say hi", stream: true, max_tokens: 50 });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("[DONE]");
    expect(JSON.parse(openai.requests.at(-1)!.body.toString("utf8"))).toMatchObject({ stream_options: { include_usage: true }, max_tokens: 50 });
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 5 + 16 * 2, reservedMicroUsd: 0, tokensIn: 5, tokensOut: 16, requests: 1 });

    // A server that ignores include_usage: the gateway cannot know what it wrote, so the worst case is the charge.
    const silent = { model: "m", prompt: "ignore usage", stream: true, max_tokens: 50 };
    await (await post(token, "/openai/v1/completions", silent)).text();
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 37 + promptBoundOf(silent) + 50 * 2, reservedMicroUsd: 0, requests: 2 });
  });

  it("closing the stream before its usage arrives: the whole reservation is charged", async () => {
    const providerCutOff: Array<Promise<void>> = [];
    openaiRespond = (_request, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      sendEvents(res, [{ data: { choices: [{ index: 0, delta: { content: "a very long answer begins" } }], usage: null } }]);
      providerCutOff.push(new Promise((resolve) => res.on("close", resolve)));
    };
    anthropicRespond = (_request, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      // message_start reports the input and one output token: what was used so far, not what will be billed.
      sendEvents(res, [{ event: "message_start", data: { type: "message_start", message: { usage: { input_tokens: 50, output_tokens: 1 } } } }]);
      providerCutOff.push(new Promise((resolve) => res.on("close", resolve)));
    };
    const cases = [
      { path: "/openai/v1/chat/completions", body: { model: "m", stream: true, messages: user, max_tokens: 4_000 }, worstCase: (body: unknown) => promptBoundOf(body) * 1 + 4_000 * 2 },
      { path: "/anthropic/v1/messages", body: { model: "claude-sonnet-4-5", stream: true, messages: user, max_tokens: 4_000 }, worstCase: (body: unknown) => Math.ceil(promptBoundOf(body) * 1.25) * 3 + 4_000 * 15 },
    ];
    for (const { path, body, worstCase } of cases) {
      const { token, tokenHash } = await newToken(1);
      const client = new AbortController();
      const response = await post(token, path, body, client.signal);
      await response.body!.getReader().read();
      client.abort();
      await providerCutOff.at(-1);

      const row = await waitUntil(async () => {
        const current = await findGatewayToken(database.db, tokenHash);
        return current?.requests === 1 && current;
      }, { what: "the settlement" });
      expect(row, path).toMatchObject({ spentMicroUsd: worstCase(body), reservedMicroUsd: 0 });
    }
  });

  it("sending requests at once that together would pass the budget: they are clamped or refused, and the total stays within it", async () => {
    const { token, tokenHash } = await newToken(0.05);
    const count = 6;
    let arrived = 0;
    let refused = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The provider holds every answer until each request has either reached it or been refused, so that all are in flight together.
    const settle = (): void => {
      if (arrived + refused === count) release();
    };
    openaiRespond = async (request, res) => {
      arrived += 1;
      settle();
      await released;
      writesToTheLimit(request, res);
    };
    const before = openai.requests.length;

    const statuses = await Promise.all(
      Array.from({ length: count }, async () => {
        const response = await post(token, "/openai/v1/chat/completions", { model: "m", messages: user, max_tokens: 8_000 });
        if (response.status === 402) {
          refused += 1;
          settle();
        }
        await response.text();
        return response.status;
      }),
    );

    // Each alone fits in $0.05 (its worst case is about $0.017); six would be about $0.10.
    expect(statuses.filter((status) => status === 402).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(1);
    const forwarded = openai.requests.slice(before).map((request) => (JSON.parse(request.body.toString("utf8")) as { max_tokens: number }).max_tokens);
    for (const maxTokens of forwarded) expect(maxTokens).toBeLessThanOrEqual(8_000);
    const row = (await findGatewayToken(database.db, tokenHash))!;
    expect(row.reservedMicroUsd).toBe(0);
    expect(row.spentMicroUsd).toBe(forwarded.reduce((sum, maxTokens) => sum + 1_000 + 2 * maxTokens, 0));
    expect(row.spentMicroUsd).toBeLessThanOrEqual(row.budgetMicroUsd);
  });

  it("asking for a huge max_tokens, or none: the provider is asked for no more than the budget left pays for", async () => {
    openaiRespond = writesToTheLimit;
    const { token, tokenHash } = await newToken(0.02);
    const huge = { model: "m", messages: user, max_tokens: 10_000_000 };
    expect((await (await post(token, "/openai/v1/chat/completions", huge)).json()) as unknown).toMatchObject({ usage: { completion_tokens: expect.any(Number) } });
    const asked = (JSON.parse(openai.requests.at(-1)!.body.toString("utf8")) as { max_tokens: number }).max_tokens;
    // $0.02 less the prompt's bound, at $2 per million output tokens.
    expect(asked).toBe(Math.floor((20_000 - promptBoundOf(huge)) / 2));
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 1_000 + 2 * asked, reservedMicroUsd: 0 });

    const { token: second } = await newToken(1);
    await (await post(second, "/openai/v1/chat/completions", { model: "m", messages: user })).text();
    // Named nowhere: the model's own limit (32,000 by default) is named for it.
    expect(JSON.parse(openai.requests.at(-1)!.body.toString("utf8"))).toMatchObject({ max_tokens: 32_000 });
  });

  it("switching to a model the operator did not list (refused in the provider's own shape), or to a dearer one (charged its own price)", async () => {
    const { token, tokenHash } = await newToken(1);
    const sent = [openai, anthropic, google].map((provider) => provider.requests.length);

    const unlisted = await post(token, "/openai/v1/chat/completions", { model: "o1-pro", messages: user, max_tokens: 100 });
    expect(unlisted.status).toBe(403);
    expect(await unlisted.json()).toEqual({
      error: { message: 'The model gateway does not forward the model "o1-pro" to the provider "openai"; jobs may use: m, dear-model.', type: "gateway_model_not_allowed", code: "gateway_model_not_allowed" },
    });
    const claude = await post(token, "/anthropic/v1/messages", { model: "claude-opus-4-1", max_tokens: 100, messages: user });
    expect(claude.status).toBe(403);
    expect(await claude.json()).toMatchObject({ type: "error", error: { type: "gateway_model_not_allowed" } });
    const gemini = await post(token, "/google/v1beta/models/gemini-2.5-pro:generateContent", { contents: [{ role: "user", parts: [{ text: "hi" }] }] });
    expect(gemini.status).toBe(403);
    expect(await gemini.json()).toMatchObject({ error: { code: 403, status: "PERMISSION_DENIED" } });
    expect([openai, anthropic, google].map((provider) => provider.requests.length)).toEqual(sent);

    openaiRespond = (_request, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [], usage: { prompt_tokens: 1_000, completion_tokens: 100 } }));
    await (await post(token, "/openai/v1/chat/completions", { model: "dear-model", messages: user, max_tokens: 100 })).text();
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 1_000 * 100 + 100 * 400, requests: 1 });
  });

  it("server-side tools, background responses, several answers at once, dearer caching, models chosen by the path and Google's embeddings: refused before they reach the provider", async () => {
    const { token, tokenHash } = await newToken(1);
    const sent = [openai, anthropic, google].map((provider) => provider.requests.length);
    const attempts: Array<[string, unknown, (body: unknown) => void]> = [
      ["/openai/v1/responses", { model: "m", input: "search the web", tools: [{ type: "web_search" }] }, openAiUnmeterable],
      ["/openai/v1/responses", { model: "m", input: "take your time", background: true }, openAiUnmeterable],
      ["/openai/v1/responses", { model: "m", input: "go on", previous_response_id: "resp_1" }, openAiUnmeterable],
      ["/openai/v1/chat/completions", { model: "m", messages: user, n: 8 }, openAiUnmeterable],
      ["/anthropic/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 100, messages: user, tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 50 }] }, anthropicUnmeterable],
      ["/anthropic/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 100, messages: user, tools: [{ type: "code_execution_20250825", name: "code_execution" }] }, anthropicUnmeterable],
      ["/anthropic/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 100, system: [{ type: "text", text: "big", cache_control: { type: "ephemeral", ttl: "1h" } }], messages: user }, anthropicUnmeterable],
      ["/openai/deployments/dear-model/chat/completions", { model: "m", messages: user }, openAiUnmeterable],
      ["/google/v1beta/models/gemini-2.5-flash:generateContent", { contents: [{ role: "user", parts: [{ text: "hi" }] }], tools: [{ googleSearch: {} }] }, googleUnmeterable],
      ["/google/v1beta/models/gemini-2.5-flash:embedContent", { content: { parts: [{ text: "hi" }] } }, googleUnmeterable],
    ];
    for (const [path, body, check] of attempts) {
      const response = await post(token, path, body);
      expect(response.status, path).toBe(400);
      check(await response.json());
    }
    expect([openai, anthropic, google].map((provider) => provider.requests.length)).toEqual(sent);
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ spentMicroUsd: 0, reservedMicroUsd: 0, requests: 0 });
  });
});

function openAiUnmeterable(body: unknown): void {
  expect(body).toMatchObject({ error: { type: "gateway_unmeterable", message: expect.stringContaining("cannot charge exactly") } });
}

function anthropicUnmeterable(body: unknown): void {
  expect(body).toMatchObject({ type: "error", error: { type: "gateway_unmeterable", message: expect.stringContaining("cannot charge exactly") } });
}

function googleUnmeterable(body: unknown): void {
  expect(body).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
}
