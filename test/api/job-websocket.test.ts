/**
 * `WS /ws/{job_id}`: the job's event stream as a WebSocket, through the web role's own
 * server (its upgrade handling and its stop), over a real database.
 */
import type { IncomingMessage } from "node:http";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Caller } from "../../src/api/caller.ts";
import { hasValidBearer } from "../../src/api/http.ts";
import type { EventStreamOptions } from "../../src/api/job-event-stream.ts";
import { createJobWebSocketUpgrade } from "../../src/api/job-websocket.ts";
import { appendJobEvent, findJob, updateJob } from "../../src/store/job-queries.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { startWebServer, type WebServer } from "../../src/web-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob as insertJobInto } from "../support/job-fixture.ts";
import { waitUntil } from "../support/wait-until.ts";

const TOKEN = "ws-token-for-tests-0123";
const UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000";

let database: TestDatabase;
let server: Served;
/** Servers a test started of its own, stopped after it. */
const extraServers: Served[] = [];

interface Served {
  web: WebServer;
  url: string;
  /** The upgrade handler's promise for each request path: it settles once the socket is done with. */
  followed: Map<string, Promise<boolean>>;
}

interface Frame {
  type: string;
  [field: string]: unknown;
}

interface Followed {
  socket: WebSocket;
  frames: Frame[];
  closed: Promise<{ code: number; reason: string }>;
}

/** The token is a machine; `x-person: ana` stands for ana's session cookie: she can read repository 1296269 only. */
function callerOf(req: IncomingMessage): Caller | null {
  if (hasValidBearer(req, TOKEN)) return { kind: "machine" };
  if (req.headers["x-person"] !== "ana") return null;
  const repositories = new Map([[1296269, { id: 1296269, fullName: "octo-org/hello-world", defaultBranch: "main", canWrite: false }]]);
  return { kind: "person", session: { login: "ana", id: 7, token: "ghu_ana", csrf: "c", expiresAt: Date.now() + 60_000 }, repositories: async () => repositories };
}

async function serve(eventStream: EventStreamOptions): Promise<Served> {
  const upgrade = createJobWebSocketUpgrade({ db: database.db, callerOf, eventStream, log: pino({ level: "silent" }) });
  const followed = new Map<string, Promise<boolean>>();
  const web = await startWebServer({
    host: "127.0.0.1",
    port: 0,
    log: pino({ level: "silent" }),
    webhooks: () => false,
    webhookPath: "/api/github/webhooks",
    maxWebhookBodyBytes: 1024,
    handlers: [],
    upgrades: [
      (req, socket, head) => {
        const taken = upgrade(req, socket, head);
        followed.set(req.url!, taken);
        return taken;
      },
    ],
  });
  return { web, url: `ws://127.0.0.1:${web.port}`, followed };
}

/** A client following `path`, with every frame it got so far. */
async function follow(path: string, options: { on?: Served; autoPong?: boolean } = {}): Promise<Followed> {
  const socket = new WebSocket(`${(options.on ?? server).url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` }, autoPong: options.autoPong ?? true });
  const frames: Frame[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(String(data)) as Frame));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return { socket, frames, closed };
}

/** What the server answers a request it does not upgrade: its status and body. */
function refusalOf(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.url}${path}`, { headers });
    socket.once("open", () => reject(new Error(`${path} was upgraded`)));
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.once("end", () => resolve({ status: res.statusCode!, body }));
    });
  });
}

const insertJob = (overrides: Partial<Job>) => insertJobInto(database.db, overrides);
const typesOf = (frames: readonly Frame[]) => frames.map((frame) => frame.type);

beforeAll(async () => {
  database = await createTestDatabase();
  server = await serve({ pollMs: 20, keepAliveMs: 60_000 });
});
afterEach(async () => {
  await Promise.all(extraServers.splice(0).map((served) => served.web.stop()));
});
afterAll(async () => {
  await server.web.stop();
  await database.drop();
});

describe("WS /ws/{job_id}", () => {
  it("sends the log so far, then what is new as it is written, then end and a normal close", async () => {
    const job = await insertJob({ status: "running", phase: "build" });
    await appendJobEvent(database.db, job.id, "phase", "phase explore started");
    await appendJobEvent(database.db, job.id, "phase", "phase build started");

    const client = await follow(`/ws/${job.id}`);
    await waitUntil(() => client.frames.length >= 3, { what: "the log so far and the job" });
    expect(typesOf(client.frames)).toEqual(["log", "log", "job"]);
    expect(client.frames[0]).toMatchObject({ type: "log", kind: "phase", message: "phase explore started", data: null });
    expect(client.frames[0]!.id).toEqual(expect.any(Number));
    expect(client.frames[2]!.job).toMatchObject({ id: job.id, status: "running", phase: "build" });

    await appendJobEvent(database.db, job.id, "round", "round 1: checks passed");
    await waitUntil(() => client.frames.length >= 4, { what: "the new log line" });
    await updateJob(database.db, job.id, { status: "cancelled", phase: null, finishedAt: new Date(), cancelRequestedBy: "octocat" });

    expect(await client.closed).toEqual({ code: 1000, reason: "the job has ended" });
    expect(typesOf(client.frames.slice(3))).toEqual(["log", "job", "end"]);
    expect(client.frames[3]).toMatchObject({ kind: "round", message: "round 1: checks passed" });
    expect(client.frames[4]!.job).toMatchObject({ id: job.id, status: "cancelled", phase: null });
    const ids = client.frames.filter((frame) => frame.type === "log").map((frame) => frame.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(await server.followed.get(`/ws/${job.id}`)).toBe(true);
  });

  it("serves the same under the REST API's job, /api/jobs/{job_id}/ws", async () => {
    const job = await insertJob({ status: "cancelled", finishedAt: new Date() });
    await appendJobEvent(database.db, job.id, "phase", "one");

    const client = await follow(`/api/jobs/${job.id}/ws`);

    expect((await client.closed).code).toBe(1000);
    expect(typesOf(client.frames)).toEqual(["log", "job", "end"]);
    expect(client.frames[1]!.job).toMatchObject({ id: job.id, status: "cancelled" });
  });

  it("refuses a missing or wrong token with 401 before any upgrade, saying nothing of whether the job exists", async () => {
    const job = await insertJob({ status: "running" });
    const answers = [];
    const unauthorized: Array<Record<string, string>> = [{}, { authorization: "Bearer wrong-token-of-same-size" }, { authorization: TOKEN }];
    for (const headers of unauthorized) {
      for (const path of [`/ws/${job.id}`, `/ws/${UNKNOWN_JOB}`, "/ws/not-a-job", `/api/jobs/${job.id}/ws`]) answers.push(await refusalOf(path, headers));
    }

    for (const answer of answers) expect(answer).toEqual({ status: 401, body: JSON.stringify({ error: "missing or wrong bearer token" }) });
  });

  it("answers 404 for an unknown job and for an id that is no UUID", async () => {
    const authorized = { authorization: `Bearer ${TOKEN}` };
    for (const path of [`/ws/${UNKNOWN_JOB}`, "/ws/not-a-job", `/api/jobs/${UNKNOWN_JOB}/ws`, "/ws/'%20or%201=1"]) {
      expect(await refusalOf(path, authorized)).toEqual({ status: 404, body: JSON.stringify({ error: "no job with that id" }) });
    }
  });

  it("lets a signed-in person follow a job they can read, from the dashboard's own origin only", async () => {
    const readable = await insertJob({ status: "running" });
    const hidden = await insertJob({ status: "running", repoId: 3003 });
    const host = new URL(server.url).host;
    const person = (origin: string | null) => ({ "x-person": "ana", ...(origin ? { origin } : {}) });
    // Another page of the same site sends the cookie too: cross-site WebSocket hijacking.
    for (const origin of ["https://evil.example", `http://${host}.evil.example`, "null", null]) {
      expect(await refusalOf(`/ws/${readable.id}`, person(origin))).toEqual({ status: 403, body: JSON.stringify({ error: "a signed-in person's WebSocket must come from the dashboard's own origin" }) });
    }
    expect(await refusalOf(`/ws/${hidden.id}`, person(`http://${host}`))).toEqual({ status: 404, body: JSON.stringify({ error: "no job with that id" }) });
    const socket = new WebSocket(`${server.url}/ws/${readable.id}`, { headers: person(`http://${host}`) });
    const first = await new Promise<Frame>((resolve, reject) => {
      socket.once("message", (data) => resolve(JSON.parse(String(data)) as Frame));
      socket.once("error", reject);
    });
    expect(first).toMatchObject({ type: "job", job: { id: readable.id } });
    socket.close(1000);
  });

  it("answers 404 to an upgrade on a path no handler takes", async () => {
    expect(await refusalOf("/api/jobs", { authorization: `Bearer ${TOKEN}` })).toEqual({ status: 404, body: "" });
    expect(await refusalOf(`/ws/${UNKNOWN_JOB}/more`, { authorization: `Bearer ${TOKEN}` })).toEqual({ status: 404, body: "" });
  });

  it("stops polling once the client has left", async () => {
    const job = await insertJob({ status: "running" });
    const client = await follow(`/ws/${job.id}`);
    await waitUntil(() => client.frames.length >= 1, { what: "the job" });

    client.socket.close(1000);

    // The handler's promise covers its polling: it settles only once the feed has stopped.
    expect(await server.followed.get(`/ws/${job.id}`)).toBe(true);
    expect((await client.closed).code).toBe(1000);
  });

  it("ignores what a client sends, and closes the socket on a frame larger than it takes", async () => {
    const job = await insertJob({ status: "running" });
    const client = await follow(`/ws/${job.id}`);
    await waitUntil(() => client.frames.length >= 1, { what: "the job" });

    client.socket.send(JSON.stringify({ type: "cancel" }));
    client.socket.send("not even JSON");
    await appendJobEvent(database.db, job.id, "phase", "still followed");
    await waitUntil(() => client.frames.some((frame) => frame.message === "still followed"), { what: "the log line after the client's messages" });
    expect(await findJob(database.db, job.id)).toMatchObject({ status: "running", cancelRequestedAt: null });

    client.socket.send("x".repeat(64 * 1024));

    expect((await client.closed).code).toBe(1009);
    expect(await server.followed.get(`/ws/${job.id}`)).toBe(true);
  });

  it("drops a client that does not answer its pings", async () => {
    const pinging = await serve({ pollMs: 20, keepAliveMs: 20 });
    extraServers.push(pinging);
    const job = await insertJob({ status: "running" });
    const client = await follow(`/ws/${job.id}`, { on: pinging, autoPong: false });

    // Terminated without a close frame: the client sees an abnormal closure.
    expect((await client.closed).code).toBe(1006);
    expect(await pinging.followed.get(`/ws/${job.id}`)).toBe(true);
  });

  it("does not hold the server's stop", async () => {
    const stopping = await serve({ pollMs: 20, keepAliveMs: 60_000 });
    const job = await insertJob({ status: "running" });
    const client = await follow(`/ws/${job.id}`, { on: stopping });
    await waitUntil(() => client.frames.length >= 1, { what: "the job" });

    await stopping.web.stop();

    expect((await client.closed).code).toBe(1006);
    expect(await stopping.followed.get(`/ws/${job.id}`)).toBe(true);
  });
});
