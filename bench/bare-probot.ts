/**
 * The baseline bench:load measures the app's webhook answers against: a bare Probot app that
 * verifies each delivery's signature and does nothing else. Started as a process of its own
 * by bench/load.ts, like the app; prints `ready` once it listens on PORT.
 */
import { createServer } from "node:http";
import { Probot, createNodeMiddleware } from "probot";

const probot = new Probot({ appId: Number(process.env.APP_ID), privateKey: process.env.PRIVATE_KEY!, secret: process.env.WEBHOOK_SECRET!, logLevel: "fatal" });
const middleware = await createNodeMiddleware(
  (app) => {
    app.onAny(async () => {});
  },
  { probot, webhooksPath: "/api/github/webhooks" },
);
const server = createServer((req, res) => {
  void middleware(req, res, () => res.writeHead(404).end());
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
