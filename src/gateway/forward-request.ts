/**
 * One model request, sent on to the provider with the real key, its answer streamed back
 * chunk by chunk (server-sent events must reach the agent as the model writes them)
 * while a meter reads the usage off the bytes going past.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { ProviderKind } from "./gateway-errors.ts";
import type { AnswerFacts } from "./request-budget.ts";
import { createUsageMeter } from "./usage-meter.ts";

export interface ProviderTarget {
  url: URL;
  kind: ProviderKind;
  apiKey: string;
}

/**
 * `status` is null when no answer came: the provider could not be reached (`failure` says
 * why; the caller answers 502 once it has settled the request), or the client left first.
 * `completed` is false when the client went away or the provider broke off in the middle
 * of the answer.
 */
export interface ForwardResult extends AnswerFacts {
  failure?: string;
}

/**
 * Errors that mean the connection was never made, so the provider never saw the request.
 * Any other failure may come after the provider started on it (and billed it).
 */
const notConnected = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** Hop-by-hop headers, and those the proxy sets itself. */
const hopByHop = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
// Whatever credential the client sent (the job's token) never leaves: the provider gets the real key instead.
const credentialHeaders = ["authorization", "x-api-key", "x-goog-api-key"];
// The body is streamed, so its length is the transfer's business; `expect: 100-continue` was answered by Node already.
const droppedRequestHeaders = new Set([...hopByHop, ...credentialHeaders, "host", "content-length", "expect", "accept-encoding", "cookie"]);
// fetch decodes compressed bodies, so their encoding and length headers would lie to the client.
const droppedResponseHeaders = new Set([...hopByHop, "content-encoding", "content-length", "set-cookie"]);

/**
 * Forward `req` (its body, or `body` when the caller has read and rewritten it: JSON) and copy
 * the answer to `res`. Leaves `res` open when it returns, so that the caller can charge
 * the usage before the client sees the end: the client's next request then sees the charge.
 */
export async function forwardToProvider(req: IncomingMessage, res: ServerResponse, target: ProviderTarget, body?: Buffer): Promise<ForwardResult> {
  const noUsage = { tokensIn: 0, tokensOut: 0 };
  const noAnswer = { status: null, usage: noUsage, completed: false, usageReported: false };
  const client = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) client.abort();
  };
  res.once("close", onClose);
  try {
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    let upstream: Response;
    try {
      upstream = await fetch(target.url, {
        method: req.method ?? "GET",
        headers: requestHeadersOf(req.headers, target, body !== undefined),
        body: hasBody ? (body ?? (req as unknown as AsyncIterable<Uint8Array>)) : null,
        duplex: "half",
        // A proxy passes redirects on; following them would re-send the real key to wherever they point.
        redirect: "manual",
        signal: client.signal,
      });
    } catch (error) {
      if (client.signal.aborted) return { ...noAnswer, delivered: true };
      return { ...noAnswer, delivered: !notConnected.has(codeOf(error) ?? ""), failure: `The model gateway could not reach the provider at ${target.url.host}: ${reasonOf(error)}` };
    }
    res.writeHead(upstream.status, responseHeadersOf(upstream.headers));
    res.flushHeaders();
    const meter = createUsageMeter(upstream.headers.get("content-type"));
    let completed = true;
    if (upstream.body) {
      const measure = async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          meter.push(chunk);
          yield chunk;
        }
      };
      // On an error either side, pipeline destroys both: the client sees a cut-off answer (and retries), the provider a closed connection.
      await pipeline(Readable.fromWeb(upstream.body as NodeReadableStream<Uint8Array>), measure, res, { end: false }).catch(() => {
        completed = false;
      });
    }
    const { reported, ...usage } = meter.finish();
    return { delivered: true, status: upstream.status, usage, usageReported: reported, completed };
  } finally {
    res.off("close", onClose);
  }
}

function requestHeadersOf(incoming: IncomingHttpHeaders, target: ProviderTarget, ownBody: boolean): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || droppedRequestHeaders.has(name)) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  if (ownBody) {
    // The gateway's own serialization of the body it read: plain UTF-8 JSON, whatever the client declared.
    headers.delete("content-encoding");
    headers.set("content-type", "application/json");
  }
  // Identity, so the meter reads plain text (fetch would decode anything else anyway).
  headers.set("accept-encoding", "identity");
  if (target.kind === "anthropic") headers.set("x-api-key", target.apiKey);
  else if (target.kind === "google") headers.set("x-goog-api-key", target.apiKey);
  else headers.set("authorization", `Bearer ${target.apiKey}`);
  return headers;
}

function responseHeadersOf(upstream: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  upstream.forEach((value, name) => {
    if (!droppedResponseHeaders.has(name)) headers[name] = value;
  });
  return headers;
}

function reasonOf(error: unknown): string {
  const cause = causeOf(error);
  const code = codeOf(error);
  const message = cause instanceof Error ? cause.message : String(cause);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** fetch wraps the socket's error: the code is on its cause. */
function causeOf(error: unknown): unknown {
  return error instanceof Error && error.cause instanceof Error ? error.cause : error;
}

function codeOf(error: unknown): string | undefined {
  const cause = causeOf(error);
  return typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
}
