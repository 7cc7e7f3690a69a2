/**
 * The real opencode binary, in a local sandbox, with nothing but a gateway token: its
 * providers' baseURLs are the gateway, which forwards with the real keys (to the scripted
 * model behind a recording tap, and to a fake speaking Google's, Anthropic's and OpenAI's
 * own formats) and charges the token.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpencodeConfig } from "../../src/agent/opencode-config.ts";
import { startOpencodeServer, type OpencodeServer } from "../../src/agent/opencode-server.ts";
import { runPrompt } from "../../src/agent/run-prompt.ts";
import { findGatewayToken, issueGatewayToken, settleReservation, type IssuedGatewayToken } from "../../src/gateway/gateway-tokens.ts";
import { createModelGateway } from "../../src/gateway/model-gateway.ts";
import { JobError } from "../../src/job-error.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { scriptedProvider, startModelServer, type ModelRequest, type ModelServer, type Turn } from "../fakes/model-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { jobFixture } from "../support/job-fixture.ts";
import { answerNatively, proxyTo, startFakeProvider, type FakeProvider } from "./fake-provider.ts";
import { startGatewayServer, type GatewayServer } from "./gateway-server.ts";

const REAL_KEY = "sk-real-model-key-that-stays-outside-0123";
/** opencode's built-in providers, the version segment their SDK's baseURL ends with, and the header their key goes in. */
const NATIVE = [
  { model: "google/gemini-2.5-pro", kind: "google", version: "v1beta", path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", header: "x-goog-api-key", key: "AIza-real-google-key-0123456789abcdefghi" },
  { model: "anthropic/claude-sonnet-4-5", kind: "anthropic", version: "v1", path: "/v1/messages", header: "x-api-key", key: "sk-ant-real-anthropic-key-0123456789" },
  { model: "openai/gpt-5", kind: "openai", version: "v1", path: "/v1/responses", header: "authorization", key: "sk-real-openai-key-0123456789abcdefgh" },
] as const;
const usage = { prompt_tokens: 1_000, completion_tokens: 100 };

function scenario(request: ModelRequest): Turn {
  if (request.turnIndex === 0) return { toolCalls: [{ name: "write", arguments: { filePath: "hello.txt", content: "through the gateway\n" } }], usage };
  return { text: "I wrote hello.txt.", usage };
}

let rootDir: string;
let database: TestDatabase;
let model: ModelServer;
let tap: FakeProvider;
let native: FakeProvider;
let gateway: GatewayServer;
let sandbox: Sandbox;
let server: OpencodeServer;
let issued: IssuedGatewayToken;

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), "gateway-opencode-test-"));
  database = await createTestDatabase();
  model = await startModelServer(scenario);
  tap = await startFakeProvider(proxyTo(new URL(model.baseUrl).origin));
  native = await startFakeProvider(answerNatively);
  const pricing = { inputPerMillion: 1, outputPerMillion: 2 };
  const providers = {
    scripted: { baseUrl: tap.baseUrl, apiKey: REAL_KEY, kind: "openai" as const, pricing, models: { m: {} } },
    ...Object.fromEntries(NATIVE.map(({ model, kind, key }) => {
      const [id, name] = model.split("/") as [string, string];
      return [id, { baseUrl: native.baseUrl, apiKey: key, kind, pricing, models: { [name]: {} } }];
    })),
  };
  gateway = await startGatewayServer(createModelGateway({ db: database.db, providers, log: pino({ level: "silent" }) }));
  const { id: _id, ...job } = jobFixture();
  const [row] = await database.db.insert(jobs).values(job).returning({ id: jobs.id });
  issued = await issueGatewayToken(database.db, { jobId: row!.id, budgetUsd: 1, ttlMs: 600_000 });
  sandbox = await createLocalSandboxProvider({ rootDir }).create({ jobId: "gateway", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
  // The scripted provider entry (same models and prices), pointed at the gateway with the job's token.
  const provider = { ...scriptedProvider({ baseUrl: `${gateway.url}/gateway/scripted/v1` }), apiKey: issued.token };
  const builtIn = Object.fromEntries(NATIVE.map(({ model, version }) => {
    const id = model.split("/")[0]!;
    return [id, { options: { baseURL: `${gateway.url}/gateway/${id}/${version}`, apiKey: issued.token } }];
  }));
  // An agent per built-in model, so that the config names them: opencode then loads its catalog, which describes them.
  const agent = Object.fromEntries(NATIVE.map(({ model, kind }) => [kind, { model }]));
  const config = buildOpencodeConfig({ models: { explore: "scripted/m", plan: "scripted/m", build: "scripted/m" }, provider, extra: { provider: builtIn, agent } });
  for (const key of [REAL_KEY, ...NATIVE.map((entry) => entry.key)]) expect(JSON.stringify(config)).not.toContain(key);
  server = await startOpencodeServer(sandbox, { config });
});

afterAll(async () => {
  await server?.stop();
  await sandbox?.destroy();
  await gateway?.close();
  await tap?.close();
  await native?.close();
  await model?.close();
  await database?.drop();
  await rm(rootDir, { recursive: true, force: true });
});

describe("opencode through the model gateway", () => {
  it("runs a prompt with only the job's token, and the gateway charges what opencode reports", async () => {
    const result = await runPrompt(server, { agent: "build", model: "scripted/m", text: "Create hello.txt", title: "gateway", deadlineMs: 60_000 });

    expect(await sandbox.readFile("hello.txt")).toBe("through the gateway\n");
    expect(result).toMatchObject({ text: "I wrote hello.txt.", tokensIn: 2_000, tokensOut: 200 });
    expect(tap.requests.length).toBe(2);
    for (const request of tap.requests) expect(request.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
    expect(JSON.stringify(tap.requests)).not.toContain(issued.token);
    const row = await findGatewayToken(database.db, issued.tokenHash);
    expect(row).toMatchObject({ tokensIn: result.tokensIn, tokensOut: result.tokensOut, requests: 2, reservedMicroUsd: 0 });
    expect(row!.spentMicroUsd).toBe(Math.round(result.cost * 1e6));
    expect(row!.spentMicroUsd).toBe(2 * (1_000 + 2 * 100));
  });

  it("takes opencode's own Google, Anthropic and OpenAI providers, each sending the token its own way", async () => {
    const before = (await findGatewayToken(database.db, issued.tokenHash))!;
    for (const { model, path, header, key } of NATIVE) {
      const result = await runPrompt(server, { agent: "build", model, text: "Say hi", title: model, deadlineMs: 60_000 });

      expect(result.text).toBe(`hi from ${model.split("/")[0]}`);
      const seen = native.requests.at(-1)!;
      expect(seen.url).toBe(path);
      expect(seen.headers[header]).toBe(header === "authorization" ? `Bearer ${key}` : key);
      expect(JSON.stringify(seen)).not.toContain(issued.token);
    }
    expect(native.requests).toHaveLength(3);
    const after = (await findGatewayToken(database.db, issued.tokenHash))!;
    expect({ requests: after.requests - before.requests, tokensIn: after.tokensIn - before.tokensIn, tokensOut: after.tokensOut - before.tokensOut }).toEqual({ requests: 3, tokensIn: 30, tokensOut: 9 });
    expect(after.spentMicroUsd - before.spentMicroUsd).toBe(3 * (10 + 2 * 3));
  });

  it("fails the prompt with the gateway's words once the budget is spent", async () => {
    const row = (await findGatewayToken(database.db, issued.tokenHash))!;
    await settleReservation(database.db, issued.tokenHash, 0, { microUsd: row.budgetMicroUsd - row.spentMicroUsd, tokensIn: 0, tokensOut: 0, counted: true });
    const sent = tap.requests.length;

    const failure = await runPrompt(server, { agent: "build", model: "scripted/m", text: "Once more", title: "over budget", deadlineMs: 60_000 }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(JobError);
    expect(failure).toMatchObject({ kind: "model", retryable: false });
    expect((failure as JobError).message).toContain("HTTP 402");
    expect((failure as JobError).message).toContain("model budget of $1.00 is spent");
    expect(tap.requests.length).toBe(sent);
  });
});
