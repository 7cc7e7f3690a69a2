import type { IncomingMessage, ServerResponse } from "node:http";
import type { Db } from "../store/database.ts";
import { findJob, listJobEvents } from "../store/job-queries.ts";
import type { Job } from "../store/jobs.sql.ts";
import { eventToJson, jobToJson } from "./job-json.ts";

export interface EventStreamOptions {
  /** How often the database is asked for what is new. */
  pollMs?: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  keepAliveMs?: number;
}

/**
 * `GET /api/jobs/:id/events`: the job's log as Server-Sent Events, then everything new as
 * it is written, ending once the job has ended. Each log entry is an `event: log` with its
 * id, so a client that reconnects with `Last-Event-ID` (browsers do) gets only what it
 * missed; each change of the job's state is an `event: job` with the job as the API shows
 * it. Any web process can serve it: everything comes from Postgres.
 */
export async function streamJobEvents(db: Db, job: Job, req: IncomingMessage, res: ServerResponse, options: EventStreamOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? 500;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
  let closed = false;
  req.on("close", () => (closed = true));
  let lastEventId = Number(req.headers["last-event-id"] ?? 0) || 0;
  let lastState = "";
  let lastWrite = Date.now();
  const write = (text: string) => {
    res.write(text);
    lastWrite = Date.now();
  };
  for (;;) {
    const current = await findJob(db, job.id);
    if (!current || closed) break;
    for (const event of await listJobEvents(db, job.id, lastEventId)) {
      write(`id: ${event.id}\nevent: log\ndata: ${JSON.stringify(eventToJson(event))}\n\n`);
      lastEventId = event.id;
    }
    const state = JSON.stringify(jobToJson(current));
    if (state !== lastState) {
      write(`event: job\ndata: ${state}\n\n`);
      lastState = state;
    }
    if (current.finishedAt !== null || closed) break;
    if (Date.now() - lastWrite >= keepAliveMs) write(": keep-alive\n\n");
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  if (!closed) write("event: end\ndata: {}\n\n");
  res.end();
}
