/**
 * A metered request's body, read whole: the gateway must see all of it to bound its cost,
 * and forwards its own serialization of what it read, never the client's bytes. A body
 * the provider would read differently (duplicate keys, a lenient parser's extensions)
 * would otherwise carry an output limit or a tool past the checks.
 */
import type { IncomingMessage } from "node:http";
import { isRecord, parseJson } from "../json.ts";

/** Metered requests are buffered to be read; images inline make them large, not this large. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The request's body, or null when it passes `limit` bytes. The rest is still read (and
 * dropped), not cut off: leaving the loop early would destroy the socket, and with it the
 * 413 the client should get. Only a job holding a valid token gets this far.
 */
export async function readRequestBody(req: IncomingMessage, limit = MAX_REQUEST_BODY_BYTES): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else chunks.length = 0;
  }
  return size > limit ? null : Buffer.concat(chunks);
}

/** The body as a JSON object; null when it is not one (every model API takes an object). */
export function requestObjectOf(body: Buffer): Record<string, unknown> | null {
  const parsed = parseJson(body.toString("utf8"));
  return isRecord(parsed) ? parsed : null;
}
