/**
 * A job's event stream (`GET /api/jobs/:id/events`, Server-Sent Events), read with fetch:
 * EventSource cannot send the bearer token. `event: log` is a log entry, `event: job` the
 * job as it is now, `event: end` the job has ended. A stream cut before its end (a
 * restarted server, a proxy's timeout) is opened again from the last entry seen
 * (`Last-Event-ID`), after a pause.
 */
import { ApiError, authHeaders } from "./api.js";

/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").LogEntry} LogEntry */

const RECONNECT_MS = 2_000;

/**
 * @param {string} jobId
 * @param {{ lastEventId: number, signal: AbortSignal, onLog: (entry: LogEntry) => void, onJob: (job: Job) => void, onEnd: () => void, onError: (error: ApiError) => void }} options
 */
export async function followJobEvents(jobId, options) {
  let lastEventId = options.lastEventId;
  while (!options.signal.aborted) {
    try {
      const ended = await readStream(jobId, lastEventId, options, (id) => {
        lastEventId = id;
      });
      if (ended) {
        options.onEnd();
        return;
      }
    } catch (error) {
      if (options.signal.aborted) return;
      if (error instanceof ApiError && error.status !== 0 && error.status < 500) {
        options.onError(error);
        return;
      }
      if (!(error instanceof ApiError) && !(error instanceof TypeError)) throw error;
    }
    await pause(RECONNECT_MS, options.signal);
  }
}

/**
 * One connection: true when the server said the job has ended.
 * @param {string} jobId
 * @param {number} lastEventId
 * @param {{ signal: AbortSignal, onLog: (entry: LogEntry) => void, onJob: (job: Job) => void }} options
 * @param {(id: number) => void} seen
 */
async function readStream(jobId, lastEventId, options, seen) {
  /** @type {Record<string, string>} */
  const headers = { accept: "text/event-stream", ...authHeaders("GET") };
  if (lastEventId > 0) headers["last-event-id"] = String(lastEventId);
  const response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}/events`, { headers, credentials: "same-origin", signal: options.signal });
  if (!response.ok || !response.body) {
    const payload = await response.json().catch(() => null);
    throw new ApiError(response.status, typeof payload?.error === "string" ? payload.error : `The job's event stream answered HTTP ${response.status}.`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    const blocks = buffer.split(/\r?\n\r?\n/);
    buffer = blocks.pop() ?? "";
    for (const block of blocks) {
      const event = parseEvent(block);
      if (!event) continue;
      if (event.type === "end") return true;
      if (event.type === "log") {
        const entry = /** @type {LogEntry} */ (JSON.parse(event.data));
        seen(entry.id);
        options.onLog(entry);
      } else if (event.type === "job") {
        options.onJob(/** @type {Job} */ (JSON.parse(event.data)));
      }
    }
  }
}

/**
 * An SSE block's type and data; null for a comment (the keep-alive).
 * @param {string} block
 */
export function parseEvent(block) {
  let type = "message";
  /** @type {string[]} */
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(":") || line === "") continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  return data.length === 0 && type === "message" ? null : { type, data: data.join("\n") };
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
