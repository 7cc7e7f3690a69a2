/**
 * What GitHub's delivery log shows of a webhook the app could not take: a plain 503 (GitHub
 * redelivers, and so does our own redelivery sweep), never the internal error Probot would
 * put in the body (a database's host and port, a stack).
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startWebServer, type WebServer } from "../src/web-server.ts";
import { issueCommentPayload, postWebhook } from "./support/github-fixtures.ts";
import { createTestProbot, WEBHOOK_SECRET } from "./support/probot.ts";

let server: WebServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function serve(handler: () => Promise<void>): Promise<string> {
  const probot = createTestProbot();
  await probot.load((app) => app.on("issue_comment.created", handler));
  server = await startWebServer({
    host: "127.0.0.1",
    port: 0,
    log: pino({ level: "silent" }),
    webhooks: await probot.getNodeMiddleware({ path: "/api/github/webhooks" }),
    webhookPath: "/api/github/webhooks",
    maxWebhookBodyBytes: 1024 * 1024,
    handlers: [],
  });
  return `http://127.0.0.1:${server.port}`;
}

describe("a webhook the app could not take", () => {
  it("is answered 503 in plain words, naming nothing internal", async () => {
    const url = await serve(async () => {
      throw new Error("connect ECONNREFUSED 10.0.3.7:5432");
    });

    const response = await postWebhook(url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent hi" }) });

    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).not.toMatch(/ECONNREFUSED|10\.0\.3\.7|5432|Error:/);
    expect(JSON.parse(body)).toEqual({ error: "the app could not take this delivery now; it will be taken when GitHub redelivers it" });
  });

  it("keeps the answers that are GitHub's to read: 200 when taken, 400 for a bad signature", async () => {
    const url = await serve(async () => {});
    const payload = issueCommentPayload({ body: "/agent hi" });

    expect((await postWebhook(url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload })).status).toBe(200);
    const forged = await postWebhook(url, { event: "issue_comment", secret: "not-the-secret", payload });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toMatch(/signature/i);
  });
});
