import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer, type WebSocket } from "ws";
import type { Db } from "../store/database.ts";
import { findJob } from "../store/job-queries.ts";
import { mayRead, type Caller } from "./caller.ts";
import { headerOf, RESOURCE_ID } from "./http.ts";
import type { EventStreamOptions } from "./job-event-stream.ts";
import { followJob, type JobFeedItem } from "./job-feed.ts";

export interface JobWebSocketDeps {
  db: Db;
  /** Who is asking (the API's bearer token, or a signed-in person); null for no one. Asked before the job is looked up. */
  callerOf(req: IncomingMessage): Caller | null;
  /** Polling and ping intervals (tests shorten them). */
  eventStream?: EventStreamOptions;
  log: Logger;
}

/** Takes an upgrade request: true when the path was its own (answered or upgraded), false to let another have it. */
export type JobWebSocketUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<boolean>;

/** The original interface's `/ws/{job_id}`, and the same under the REST API's job. */
const JOB_PATHS = [/^\/ws\/([^/]+)$/, /^\/api\/jobs\/([^/]+)\/ws$/];
/** A client has nothing to say: what it sends is dropped, and a larger frame closes the socket (1009). */
const MAX_CLIENT_FRAME_BYTES = 1024;
/** Past this much unsent, the feed waits for the client to read before it queues more. */
const HIGH_WATER_BYTES = 1024 * 1024;

/**
 * `WS /ws/{job_id}` (and `/api/jobs/{job_id}/ws`): the job's event stream as a WebSocket,
 * from the same feed (`followJob`). Each frame is JSON text: `{"type":"log", ...entry}`,
 * `{"type":"job","job":{...}}` when its state changed, and `{"type":"end"}` once the job
 * has ended, followed by a normal close (1000). A refused request gets a plain HTTP answer
 * (401, 404) and is never upgraded. The returned promise settles once the socket is done
 * with, and the feed has stopped polling by then.
 */
export function createJobWebSocketUpgrade(deps: JobWebSocketDeps): JobWebSocketUpgrade {
  const server = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: MAX_CLIENT_FRAME_BYTES });
  return async function upgradeJobWebSocket(req, socket, head) {
    const jobId = jobIdOf(req.url);
    if (jobId === null) return false;
    // Before the lookup, so a client without the token learns nothing, not even whether the job exists.
    const caller = deps.callerOf(req);
    if (!caller) {
      refuse(socket, 401, "missing or wrong bearer token");
      return true;
    }
    // A browser sends its cookies with a WebSocket opened by any page of the same site: a person's socket must come from this origin's page.
    if (caller.kind === "person" && !isSameOrigin(req)) {
      refuse(socket, 403, "a signed-in person's WebSocket must come from the dashboard's own origin");
      return true;
    }
    const job = RESOURCE_ID.test(jobId) ? await findJob(deps.db, jobId) : null;
    if (!job || !(await mayRead(caller, job.repoId))) {
      refuse(socket, 404, "no job with that id");
      return true;
    }
    const client = await new Promise<WebSocket | null>((resolve) => {
      // ws answers a broken handshake (400) itself and never calls back.
      socket.once("close", () => resolve(null));
      server.handleUpgrade(req, socket, head, resolve);
    });
    if (client) await sendFeed(client, job.id, deps);
    return true;
  };
}

/** The feed as frames until the job ends or the client leaves; resolves once the socket has closed. */
async function sendFeed(client: WebSocket, jobId: string, deps: JobWebSocketDeps): Promise<void> {
  const log = deps.log.child({ name: "websocket", jobId });
  const left = new AbortController();
  const closed = new Promise<void>((resolve) => client.once("close", resolve)).then(() => left.abort());
  // An oversized or malformed frame: ws closes the socket itself (1009, 1002); without a listener it would throw.
  client.on("error", (error) => log.info({ err: error }, "a WebSocket client broke the protocol"));
  const stopPinging = keepAlive(client, deps.eventStream?.keepAliveMs ?? 15_000);
  try {
    for await (const item of followJob(deps.db, jobId, { pollMs: deps.eventStream?.pollMs, signal: left.signal })) {
      if (left.signal.aborted) break;
      const sent = send(client, frameOf(item));
      // A client that reads slowly slows the feed down instead of piling frames up in memory.
      if (client.bufferedAmount > HIGH_WATER_BYTES) await Promise.race([sent, closed]);
    }
    if (!left.signal.aborted) {
      void send(client, { type: "end" });
      client.close(1000, "the job has ended");
    }
  } catch (error) {
    log.error({ err: error }, "following a job for a WebSocket failed");
    client.close(1011, "the server could not read the job");
  } finally {
    stopPinging();
  }
  await closed;
}

function frameOf(item: JobFeedItem): object {
  return item.kind === "log" ? { type: "log", ...item.event } : { type: "job", job: item.job };
}

/** Resolves once the frame was written to the socket, or could not be (the socket is gone: `close` says so). */
function send(client: WebSocket, frame: object): Promise<void> {
  return new Promise((resolve) => client.send(JSON.stringify(frame), () => resolve()));
}

/**
 * A ping every `everyMs` keeps proxies from closing a quiet socket; a peer that has not
 * answered the previous one by then is dropped without a close handshake, which a dead
 * peer would never finish.
 */
function keepAlive(client: WebSocket, everyMs: number): () => void {
  let answered = true;
  client.on("pong", () => (answered = true));
  const timer = setInterval(() => {
    if (!answered) return client.terminate();
    answered = false;
    client.ping();
  }, everyMs);
  return () => clearInterval(timer);
}

function jobIdOf(url: string | undefined): string | null {
  const path = (url ?? "/").split("?")[0]!;
  for (const pattern of JOB_PATHS) {
    const match = pattern.exec(path);
    if (match) return match[1]!;
  }
  return null;
}

/** A plain HTTP answer on the socket, before any upgrade, and the socket closed once it is written. */
function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, "content-type: application/json; charset=utf-8", `content-length: ${Buffer.byteLength(body)}`, "cache-control: no-store", "connection: close"];
  socket.once("finish", () => socket.destroy());
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

/** The Origin header names the host the request was sent to. */
function isSameOrigin(req: IncomingMessage): boolean {
  const origin = headerOf(req, "origin");
  if (!origin) return false;
  try {
    return new URL(origin).host === headerOf(req, "host");
  } catch {
    return false;
  }
}
