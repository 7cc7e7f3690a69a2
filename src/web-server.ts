import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { readBodyWithin } from "./body-limit.ts";

/** A route as Probot's `addHandler` takes it: true (or a promise of it) when it answered. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | boolean | Promise<void | boolean>;

/**
 * An upgrade request's handler (a WebSocket): true (or a promise of it) when the path was its
 * own. It may hold its promise until the socket is done with; it rejects only before it has
 * answered, since a 500 is written on the socket then.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean | Promise<boolean>;

/** How long a stop lets requests in flight finish before it closes their connections. */
const STREAMS_GRACE_MS = 2_000;

export interface WebServerOptions {
  host: string;
  /** 0 for any free port. */
  port: number;
  log: Logger;
  /** Probot's webhook middleware (`probot.getNodeMiddleware()`) and the path it serves. */
  webhooks: RequestHandler;
  webhookPath: string;
  /** Largest webhook body read; a larger one is refused with 413 before it is buffered. */
  maxWebhookBodyBytes: number;
  /** Our routes (the API, the model gateway), asked in order after the webhooks and /ping. */
  handlers: readonly RequestHandler[];
  /** Upgrade requests (WebSockets), asked in order; none taking one is a 404. */
  upgrades?: readonly UpgradeHandler[];
}

export interface WebServer {
  /** The port it listens on (the one the kernel chose for 0). */
  port: number;
  stop(): Promise<void>;
}

/**
 * The web role's HTTP server, in place of Probot's `Server`: that one hands every request
 * to Probot's webhook middleware first, which buffers the whole body before it checks the
 * signature, and leaves no place for a size check in front of it. Otherwise this serves
 * what Probot's did: webhooks, `GET /ping`, our routes, 404, and 500 when a route throws.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const log = options.log.child({ name: "http" });
  const server = createServer((req, res) => {
    const started = performance.now();
    res.once("finish", () => log.info(`${req.method} ${pathOf(req.url)} ${res.statusCode} - ${Math.round(performance.now() - started)}ms`));
    answer(req, res, options).catch((error: unknown) => {
      log.error({ err: error }, "a request handler failed");
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  // Node forgets a socket once it is upgraded (closeAllConnections passes it by): a stop ends these itself.
  const upgraded = new Set<Duplex>();
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    // Node takes its own error listener off an upgraded socket: a reset would otherwise throw.
    socket.on("error", () => socket.destroy());
    upgrade(req, socket, head, options.upgrades ?? []).catch((error: unknown) => {
      log.error({ err: error }, "an upgrade handler failed");
      answerUpgrade(socket, "500 Internal Server Error");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        // A request still open after a moment is a stream (a dashboard's event stream, a
        // WebSocket) that would hold the stop for good: its client reconnects to another web process.
        setTimeout(() => {
          server.closeAllConnections();
          for (const socket of upgraded) socket.destroy();
        }, STREAMS_GRACE_MS).unref();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, options: WebServerOptions): Promise<void> {
  // Only requests that passed the size check ever reach Probot's middleware.
  if (trimSlashes(pathOf(req.url)) === trimSlashes(options.webhookPath)) {
    if (req.method === "POST") {
      const body = await readBodyWithin(req, res, options.maxWebhookBodyBytes);
      if (body === null) return;
      // @octokit/webhooks takes a string `body` as the raw payload and does not read the stream again.
      Object.assign(req, { body: new TextDecoder("utf-8", { fatal: false }).decode(body) });
    }
    if (await options.webhooks(req, hidingInternalErrors(res))) return;
  }
  if (req.method === "GET" && pathOf(req.url) === "/ping") {
    res.writeHead(200, { "content-type": "text/plain" }).end("PONG");
    return;
  }
  for (const handler of options.handlers) if (await handler(req, res)) return;
  if (!res.headersSent) res.writeHead(404).end();
}

async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, handlers: readonly UpgradeHandler[]): Promise<void> {
  for (const handler of handlers) if (await handler(req, socket, head)) return;
  answerUpgrade(socket, "404 Not Found");
}

/** An upgrade request is answered on its raw socket, which is closed once the answer is written. */
function answerUpgrade(socket: Duplex, status: string): void {
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/**
 * Probot answers a delivery its handlers failed on with 500 and the error's own message
 * (`connect ECONNREFUSED 10.0.3.7:5432` while Postgres is down), which GitHub keeps in the
 * app's delivery log. Such an answer becomes a plain 503 that names nothing internal (the
 * error is logged); GitHub's own answers (400 for a bad signature) stay as they are.
 */
function hidingInternalErrors(res: ServerResponse): ServerResponse {
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: Record<string, string>) => ServerResponse;
  const end = res.end.bind(res) as (body?: string) => ServerResponse;
  let hidden = false;
  return Object.assign(res, {
    writeHead: (status: number, ...rest: unknown[]) => {
      if (status < 500) return writeHead(status, ...(rest as [Record<string, string>?]));
      hidden = true;
      return writeHead(503, { "content-type": "application/json", "content-length": String(Buffer.byteLength(WEBHOOK_NOT_TAKEN)) });
    },
    end: (...args: unknown[]) => (hidden ? end(WEBHOOK_NOT_TAKEN) : end(...(args as [string?]))),
  });
}

const WEBHOOK_NOT_TAKEN = JSON.stringify({ error: "the app could not take this delivery now; it will be taken when GitHub redelivers it" });

function pathOf(url: string | undefined): string {
  return (url ?? "/").split("?")[0]!;
}

/** Probot takes its webhook path with trailing slashes too (`/api/github/webhooks/`). */
function trimSlashes(path: string): string {
  // A loop, not /\/+$/: that pattern is quadratic on a URL of many slashes not at the end.
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end -= 1;
  return path.slice(0, end);
}
