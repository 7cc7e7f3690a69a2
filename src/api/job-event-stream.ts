import type { IncomingMessage, ServerResponse } from "node:http";
import type { Db } from "../store/database.ts";
import type { Job } from "../store/jobs.sql.ts";
import { followJob } from "./job-feed.ts";

export interface EventStreamOptions {
  /** How often the database is asked for what is new. */
  pollMs?: number;
  /**
   * A quiet stream gets a comment line (SSE) or a ping (WebSocket) this often, which keeps
   * proxies from closing it; a WebSocket peer that has not answered the last ping by the
   * next one is dropped.
   */
  keepAliveMs?: number;
}

/**
 * `GET /api/jobs/:id/events`: the job's log as Server-Sent Events, then everything new as
 * it is written, ending once the job has ended. Each log entry is an `event: log` with its
 * id, so a client that reconnects with `Last-Event-ID` (browsers do) gets only what it
 * missed; each change of the job's state is an `event: job` with the job as the API shows
 * it. Any web process can serve it: everything comes from Postgres (`followJob`).
 */
export async function streamJobEvents(db: Db, job: Job, req: IncomingMessage, res: ServerResponse, options: EventStreamOptions = {}): Promise<void> {
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
  const left = new AbortController();
  req.on("close", () => left.abort());
  // Every write restarts it, so the comment comes only after keepAliveMs of silence.
  const keepAlive = setTimeout(() => write(": keep-alive\n\n"), keepAliveMs);
  const write = (text: string) => {
    res.write(text);
    keepAlive.refresh();
  };
  try {
    const lastEventId = Number(req.headers["last-event-id"] ?? 0) || 0;
    for await (const item of followJob(db, job.id, { lastEventId, pollMs: options.pollMs, signal: left.signal })) {
      if (item.kind === "log") write(`id: ${item.event.id}\nevent: log\ndata: ${JSON.stringify(item.event)}\n\n`);
      else write(`event: job\ndata: ${JSON.stringify(item.job)}\n\n`);
    }
    if (!left.signal.aborted) res.write("event: end\ndata: {}\n\n");
  } finally {
    clearTimeout(keepAlive);
  }
  res.end();
}
