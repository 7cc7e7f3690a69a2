import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * GitHub caps webhook payloads at 25 MB ("Payloads are capped at 25 MB", docs.github.com,
 * Webhook events and payloads): a larger body is not a delivery, whatever it claims.
 */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;

/**
 * The body of a request, read here so that at most `limit` bytes are ever held: Probot
 * buffers a webhook's whole body before it checks the signature, so anyone could make the
 * process hold gigabytes. A Content-Length over the limit is refused before any of the
 * body is read, a chunked body as soon as it passes the limit: the client gets a 413 and
 * the connection is closed with the rest unread. Null when the request got its answer here
 * (a 413) or its client went away.
 */
export async function readBodyWithin(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> {
  if (Number(req.headers["content-length"] ?? 0) > limit) return refuse(req, res, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  const outcome = await new Promise<"read" | "too large" | "gone">((resolve) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData);
      req.pause();
      resolve("too large");
    };
    req.on("data", onData);
    req.once("end", () => resolve("read"));
    // Stays attached: a socket error after we stopped reading must not become an uncaught one.
    req.on("error", () => resolve("gone"));
    req.once("close", () => resolve("gone"));
  });
  if (outcome === "too large") return refuse(req, res, limit);
  return outcome === "read" ? Buffer.concat(chunks) : null;
}

function refuse(req: IncomingMessage, res: ServerResponse, limit: number): null {
  // `connection: close`, or Node would read the rest of the body (and drop it) to keep the connection.
  res
    .writeHead(413, { "content-type": "application/json", connection: "close" })
    .end(JSON.stringify({ error: `the body is larger than ${limit} bytes, GitHub's cap for a webhook delivery` }));
  res.once("finish", () => req.destroy());
  return null;
}
