/**
 * OpenAI-compatible chat completions stream their usage only when asked to
 * (`stream_options.include_usage`). opencode asks, but code in the sandbox holding the
 * job's token need not: without the usage chunk the gateway could not charge the
 * request. So a streamed chat request always has usage switched on here. Anything that
 * is not a JSON object asking for a stream goes on byte for byte, malformed or not: the
 * provider's answer to it is the one the client should see.
 */
import type { IncomingMessage } from "node:http";

/** Chat requests are buffered to be rewritten; images inline make them large, not this large. */
export const MAX_CHAT_BODY_BYTES = 64 * 1024 * 1024;

export function isChatCompletions(method: string | undefined, pathname: string): boolean {
  return method === "POST" && pathname.endsWith("/chat/completions");
}

/**
 * The request's body, or null when it passes `limit` bytes. The rest is still read (and
 * dropped), not cut off: leaving the loop early would destroy the socket, and with it the
 * 413 the client should get. Only a job holding a valid token gets this far.
 */
export async function readRequestBody(req: IncomingMessage, limit = MAX_CHAT_BODY_BYTES): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else chunks.length = 0;
  }
  return size > limit ? null : Buffer.concat(chunks);
}

export function withUsageReported(body: Buffer): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return body;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return body;
  const request = parsed as Record<string, unknown>;
  if (request.stream !== true) return body;
  const options = typeof request.stream_options === "object" && request.stream_options !== null ? request.stream_options : {};
  if ((options as Record<string, unknown>).include_usage === true) return body;
  return Buffer.from(JSON.stringify({ ...request, stream_options: { ...options, include_usage: true } }), "utf8");
}
