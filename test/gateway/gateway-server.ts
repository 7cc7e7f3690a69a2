import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import { findFreePort } from "../../src/free-port.ts";

export interface GatewayServer {
  /** `http://127.0.0.1:PORT`; the gateway answers under `/gateway/`. */
  url: string;
  close(): Promise<void>;
}

/** The gateway handler on a port of its own, as Probot would mount it: a request it declines gets 418 here. */
export async function startGatewayServer(handle: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>): Promise<GatewayServer> {
  const server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) res.writeHead(418).end();
    });
  });
  const port = await findFreePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A debug-level logger whose lines are kept, to check that no secret is ever written. */
export function capturedLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { log: pino({ level: "debug" }, sink), lines };
}
