import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startApp, type RunningApp } from "../../../src/app.ts";
import { loadConfig } from "../../../src/config/load-config.ts";
import { MAX_WEBHOOK_BODY_BYTES } from "../../../src/body-limit.ts";
import { jobs } from "../../../src/store/jobs.sql.ts";
import { webhookDeliveries } from "../../../src/store/webhook-deliveries.sql.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { startFakeGitHub, type FakeGitHub } from "../../fakes/fake-github.ts";
import { issueCommentPayload, signPayload, testRepo } from "../../support/github-fixtures.ts";
import { APP_ID, testAppEnv, TestOctokit, WEBHOOK_SECRET } from "../../support/probot.ts";

// An attacker needs no signature to make the app read a body: these tests send their
// deliveries signed, so that a body the cap did not stop would be taken and stored.
// GitHub is the HTTP fake, not nock: nock's interceptor holds every outgoing request's
// body, even a raw socket's, until the request ends, and a body could not stream.
const SMALL_CAP = 64 * 1024;
const API_TOKEN = "api-token-for-body-limit-tests";
const MiB = 1024 * 1024;
const repo = testRepo();

interface TestApp {
  app: RunningApp;
  database: TestDatabase;
  dataDir: string;
}

/** The web role alone (no worker takes the jobs), on its own database. */
async function startWebApp(github: FakeGitHub, maxWebhookBodyBytes?: number): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ra-body-limit-"));
  const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, ROLE: "web", API_TOKEN, GHE_HOST: github.host, GHE_PROTOCOL: "http", LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent" };
  const config = loadConfig(testAppEnv(env));
  const app = await startApp({ config, log: pino({ level: config.env.LOG_LEVEL }), Octokit: TestOctokit, ...(maxWebhookBodyBytes ? { maxWebhookBodyBytes } : {}) });
  return { app, database, dataDir };
}

async function stopWebApp(test: TestApp | undefined): Promise<void> {
  await test?.app.stop();
  await test?.database.drop();
  if (test) await rm(test.dataDir, { recursive: true, force: true });
}

/** A signed delivery of exactly `bytes` bytes: `/agent` on issue `issue` (a job if it is taken), or a plain comment. */
function deliveryOfSize(bytes: number, options: { issue: number; command: boolean }): { body: Buffer; headers: Record<string, string> } {
  const payload: Record<string, unknown> = issueCommentPayload({ body: options.command ? "/agent add greet()" : "Thanks!", repo, issueNumber: options.issue, commentId: 9000 + options.issue });
  payload.padding = "";
  payload.padding = "x".repeat(bytes - Buffer.byteLength(JSON.stringify(payload)));
  const body = Buffer.from(JSON.stringify(payload));
  expect(body.length).toBe(bytes);
  return { body, headers: webhookHeaders(body) };
}

function webhookHeaders(body: Buffer): Record<string, string> {
  return { "content-type": "application/json", "x-github-event": "issue_comment", "x-github-delivery": randomUUID(), "x-hub-signature-256": signPayload(WEBHOOK_SECRET, body.toString()) };
}

interface Answer {
  status: number;
  text: string;
  /** Bytes of the body handed to the socket before the answer came or the server hung up. */
  written: number;
}

/**
 * POST over a plain TCP socket. Not node:http or fetch: nock's interceptor sits in both,
 * and it buffers a whole request body before passing it on. `chunks` are written with
 * backpressure, chunked unless `headers` has a content-length, and sending stops at the
 * answer. `end: false` sends no end, for a body that is declared and never comes.
 */
function post(url: string, headers: Record<string, string>, chunks: Iterable<Buffer>, options: { path?: string; end?: boolean } = {}): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const chunked = !("content-length" in headers);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = "";
    let written = 0;
    let answered = false;
    let wake: () => void = () => {};
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      received += text;
      answered = true;
      wake();
    });
    // Once answered, the server hanging up on the rest of the body is the expected end.
    socket.on("error", (error) => (answered ? undefined : reject(error)));
    socket.on("close", () => {
      wake();
      const split = received.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`the connection closed without an answer after ${written} bytes`));
      resolve({ status: Number(received.split(" ")[1]), text: received.slice(split + 4), written });
    });
    const head = Object.entries({ host: `${hostname}:${port}`, connection: "close", ...headers, ...(chunked ? { "transfer-encoding": "chunked" } : {}) });
    socket.write(`POST ${options.path ?? "/api/github/webhooks"} HTTP/1.1\r\n${head.map(([name, value]) => `${name}: ${value}\r\n`).join("")}\r\n`);
    void (async () => {
      for (const chunk of chunks) {
        if (answered || socket.destroyed) return;
        written += chunk.length;
        const flushed = socket.write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk);
        if (!flushed) await new Promise<void>((resume) => ((wake = resume), socket.once("drain", resume)));
      }
      if (chunked && options.end !== false && !socket.destroyed) socket.write("0\r\n\r\n");
    })();
  });
}

/** `body` in pieces of `size` bytes. */
function* slicesOf(body: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
}

/** `totalBytes` of blanks, one reused 64 KiB buffer at a time: the sender itself holds next to nothing. */
function* blanks(totalBytes: number): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent < totalBytes; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, totalBytes - sent));
}

async function storedRows(database: TestDatabase): Promise<{ jobs: number; deliveries: number }> {
  return { jobs: (await database.db.select().from(jobs)).length, deliveries: (await database.db.select().from(webhookDeliveries)).length };
}

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ appId: APP_ID });
});
afterAll(() => github.close());
beforeEach(() => {
  github.requests.length = 0;
});

/** What the app asked GitHub, but for the redelivery sweep, which runs on the clock. */
function callsToGitHub(): string[] {
  return github.requests.map((request) => request.route ?? `${request.method} ${request.path}`).filter((route) => route !== "apps.listWebhookDeliveries");
}

describe("the webhook endpoint with GitHub's cap", () => {
  let test: TestApp | undefined;
  beforeAll(async () => {
    test = await startWebApp(github);
  });
  afterAll(() => stopWebApp(test));

  it("caps bodies at 25 MB, as GitHub does", () => {
    expect(MAX_WEBHOOK_BODY_BYTES).toBe(25 * 1024 * 1024);
  });

  it("answers 413 to a Content-Length over 25 MB at once, before any of the body is sent", async () => {
    const headers = { ...webhookHeaders(Buffer.from("{}")), "content-length": String(MAX_WEBHOOK_BODY_BYTES + 1) };
    // Only the headers go out: a server that waited for the body would never answer.
    const answer = await post(test!.app.url!, headers, [], { end: false });
    expect(answer.status).toBe(413);
    expect(answer.text).toContain(`larger than ${MAX_WEBHOOK_BODY_BYTES} bytes`);
  });

  it("serves the rest as Probot's server did: /ping, the API, 404 elsewhere", async () => {
    const url = test!.app.url!;
    expect(await (await fetch(`${url}/ping`)).text()).toBe("PONG");
    expect(await (await fetch(`${url}/api/health`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()).toEqual({ status: "ok", role: "web", database: "ok" });
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${url}/api/github/webhooks`)).status).toBe(404);
  });

  it("takes a signed delivery of exactly 25 MB", async () => {
    const { body, headers } = deliveryOfSize(MAX_WEBHOOK_BODY_BYTES, { issue: 1, command: false });
    const answer = await post(test!.app.url!, { ...headers, "content-length": String(body.length) }, slicesOf(body, MiB));
    expect(answer.status).toBe(200);
  });
});

describe("the webhook endpoint with a cap of 64 KiB", () => {
  let test: TestApp | undefined;
  beforeAll(async () => {
    test = await startWebApp(github, SMALL_CAP);
  });
  afterAll(() => stopWebApp(test));
  beforeEach(async () => {
    await test!.database.db.delete(jobs);
    await test!.database.db.delete(webhookDeliveries);
  });

  it.each(["/api/github/webhooks", "/api/github/webhooks/", "/api/github/webhooks?x=1"])("refuses a signed delivery one byte over the cap with 413 at %s, declared in Content-Length, and stores nothing", async (path) => {
    const { body, headers } = deliveryOfSize(SMALL_CAP + 1, { issue: 2, command: true });
    const answer = await post(test!.app.url!, { ...headers, "content-length": String(body.length) }, [body], { path });
    expect(answer.status).toBe(413);
    expect(await storedRows(test!.database)).toEqual({ jobs: 0, deliveries: 0 });
    expect(callsToGitHub()).toEqual([]);
  });

  it("refuses a signed chunked delivery one byte over the cap with 413, and stores nothing", async () => {
    const { body, headers } = deliveryOfSize(SMALL_CAP + 1, { issue: 3, command: true });
    const answer = await post(test!.app.url!, headers, slicesOf(body, 1000));
    expect(answer.status).toBe(413);
    expect(await storedRows(test!.database)).toEqual({ jobs: 0, deliveries: 0 });
    expect(callsToGitHub()).toEqual([]);
  });

  it("stops reading a 100 MB chunked body once it passes the cap: memory does not grow with it", async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const answer = await post(test!.app.url!, webhookHeaders(Buffer.from("{}")), blanks(100 * MiB)).finally(() => clearInterval(sampler));

    expect(answer.status).toBe(413);
    // The rest of the body met a closed connection: what went out is the cap plus the sockets' buffers.
    expect(answer.written).toBeLessThan(32 * MiB);
    // Buffering the body (as Probot does) would add at least its 100 MB; half of that is the line.
    expect(peak - before).toBeLessThan(50 * MiB);
  });

  it("still takes a signed delivery within the cap, chunked or not, and starts its job", async () => {
    const exact = deliveryOfSize(SMALL_CAP, { issue: 5, command: true });
    const chunked = await post(test!.app.url!, exact.headers, slicesOf(exact.body, 1000));
    const normal = deliveryOfSize(16 * 1024, { issue: 6, command: true });
    const declared = await post(test!.app.url!, { ...normal.headers, "content-length": String(normal.body.length) }, [normal.body]);

    expect([chunked.status, declared.status]).toEqual([200, 200]);
    const rows = await test!.database.db.select().from(jobs);
    expect(rows.map((job) => job.issueNumber).sort()).toEqual([5, 6]);
    expect(rows.every((job) => job.task === "add greet()" && job.status === "queued")).toBe(true);
    expect((await storedRows(test!.database)).deliveries).toBe(2);
  });
});
