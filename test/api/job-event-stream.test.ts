import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendJobEvent, updateJob } from "../../src/store/job-queries.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob as insertJobInto } from "../support/job-fixture.ts";
import { waitUntil } from "../support/wait-until.ts";

let database: TestDatabase;
let api: ApiServer;

interface ServerSentEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

/** Read an SSE response as it arrives, event by event. */
function readEvents(response: Response): { events: ServerSentEvent[]; done: Promise<void> } {
  const events: ServerSentEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const done = (async () => {
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(":")) continue;
        const fields = Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]));
        events.push({ ...(fields.id ? { id: fields.id } : {}), event: fields.event ?? "message", data: JSON.parse(fields.data ?? "{}") as Record<string, unknown> });
      }
    }
  })();
  return { events, done };
}

const insertJob = (overrides: Partial<Job>) => insertJobInto(database.db, overrides);
const open = (path: string, headers: Record<string, string> = {}) => api.call("GET", path, { headers });

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database, { eventStream: { pollMs: 20, keepAliveMs: 60_000 } });
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("GET /api/jobs/:id/events", () => {
  it("sends the log so far, then what is new as it is written, and ends with the job", async () => {
    const job = await insertJob({ status: "running", phase: "build" });
    await appendJobEvent(database.db, job.id, "phase", "phase explore started");
    await appendJobEvent(database.db, job.id, "phase", "phase build started");

    const response = await open(`/api/jobs/${job.id}/events`);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const stream = readEvents(response);
    await waitUntil(() => stream.events.length >= 3, { what: "the log so far and the job" });
    expect(stream.events.map((event) => event.event)).toEqual(["log", "log", "job"]);
    expect(stream.events[2]!.data).toMatchObject({ id: job.id, status: "running", phase: "build" });

    await appendJobEvent(database.db, job.id, "round", "round 1: checks passed");
    await updateJob(database.db, job.id, { status: "completed", finishedAt: new Date(), prUrl: "https://github.com/o/r/pull/1" });
    await stream.done;

    expect(stream.events.slice(3).map((event) => event.event)).toEqual(["log", "job", "end"]);
    expect(stream.events[3]!.data).toMatchObject({ kind: "round", message: "round 1: checks passed" });
    expect(stream.events[4]!.data).toMatchObject({ status: "completed", pr_url: "https://github.com/o/r/pull/1" });
    const ids = stream.events.filter((event) => event.event === "log").map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it("resumes after Last-Event-ID, as a reconnecting browser asks", async () => {
    const job = await insertJob({ status: "completed", finishedAt: new Date() });
    await appendJobEvent(database.db, job.id, "phase", "one");
    await appendJobEvent(database.db, job.id, "phase", "two");
    const all = readEvents(await open(`/api/jobs/${job.id}/events`));
    await all.done;
    const firstId = all.events.find((event) => event.event === "log")!.id!;

    const resumed = readEvents(await open(`/api/jobs/${job.id}/events`, { "last-event-id": firstId }));
    await resumed.done;
    expect(resumed.events.filter((event) => event.event === "log").map((event) => event.data.message)).toEqual(["two"]);
  });

  it("answers 404 for an unknown job and 401 without the token", async () => {
    expect((await open("/api/jobs/00000000-0000-4000-8000-000000000000/events")).status).toBe(404);
    expect((await api.call("GET", "/api/jobs/00000000-0000-4000-8000-000000000000/events", { token: null })).status).toBe(401);
  });
});
