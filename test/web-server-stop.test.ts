/**
 * The web role's server stops even while a client holds a stream open (a dashboard's event
 * stream): requests in flight get a moment, then their connections are closed.
 */
import { request } from "node:http";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { startWebServer } from "../src/web-server.ts";

describe("stopping the web server", () => {
  it("ends an open event stream instead of waiting for its client", async () => {
    let streaming: () => void = () => {};
    const opened = new Promise<void>((resolve) => (streaming = resolve));
    const server = await startWebServer({
      host: "127.0.0.1",
      port: 0,
      log: pino({ level: "silent" }),
      webhooks: () => false,
      webhookPath: "/api/github/webhooks",
      maxWebhookBodyBytes: 1024,
      handlers: [
        (_req, res) => {
          res.writeHead(200, { "content-type": "text/event-stream" }).write("event: log\n\n");
          streaming();
          return true;
        },
      ],
    });
    const ended = new Promise<string>((resolve) => {
      request(`http://127.0.0.1:${server.port}/api/jobs/x/events`, (res) => {
        res.on("data", () => {});
        res.once("close", () => resolve("the stream closed"));
      })
        .on("error", () => resolve("the stream closed"))
        .end();
    });
    await opened;

    await server.stop();

    expect(await ended).toBe("the stream closed");
  });
});
