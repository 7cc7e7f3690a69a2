import nock from "nock";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deliveriesToRedeliver, redeliverFailedDeliveries, type DeliveryAttempt } from "../../../src/github/webhook/redeliver-failed.ts";
import { webhookDeliveries } from "../../../src/store/webhook-deliveries.sql.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { GITHUB_API } from "../../support/github-api.ts";
import { TestOctokit } from "../../support/probot.ts";

const now = new Date("2026-11-24T12:00:00Z");
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
const attempt = (id: number, guid: string, statusCode: number, minutes = 5, event = "issue_comment"): DeliveryAttempt => ({ id, guid, statusCode, deliveredAt: minutesAgo(minutes), event });

describe("deliveriesToRedeliver", () => {
  it("picks the latest attempt of each recent, failed, unprocessed delivery of an event we handle", () => {
    const attempts = [
      attempt(1, "down", 503),
      attempt(2, "processed", 500),
      attempt(3, "recovered", 502, 10),
      attempt(4, "recovered", 200, 8),
      attempt(5, "hopeless", 500, 20),
      attempt(6, "hopeless", 500, 15),
      attempt(7, "hopeless", 500, 10),
      attempt(8, "stale", 500, 90),
      attempt(9, "push", 500, 5, "push"),
      attempt(10, "twice", 500, 30),
      attempt(11, "twice", 504, 6),
    ];
    expect(deliveriesToRedeliver(attempts, new Set(["processed"]), now).sort()).toEqual([1, 11]);
  });

  it("does nothing when everything succeeded", () => {
    expect(deliveriesToRedeliver([attempt(1, "a", 200), attempt(2, "b", 202)], new Set(), now)).toEqual([]);
  });
});

describe("redeliverFailedDeliveries", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  it("asks GitHub to redeliver failed deliveries it never processed", async () => {
    await database.db.insert(webhookDeliveries).values({ deliveryId: "seen-guid", event: "issue_comment", outcome: "job_created" });
    const item = (id: number, guid: string, status_code: number) => ({ id, guid, status_code, delivered_at: minutesAgo(2).toISOString(), event: "issue_comment", action: "created", redelivery: false, duration: 0.1, status: status_code === 200 ? "OK" : "Invalid HTTP Response: 503", installation_id: 1, repository_id: 2 });
    nock(GITHUB_API)
      .get("/app/hook/deliveries")
      .query({ per_page: 100 })
      .reply(200, [item(41, "lost-guid", 503), item(42, "seen-guid", 500), item(43, "fine-guid", 200)])
      .post("/app/hook/deliveries/41/attempts")
      .reply(202, {});

    const ids = await redeliverFailedDeliveries(new TestOctokit({ auth: "jwt" }), database.db, pino({ level: "silent" }), now);
    expect(ids).toEqual([41]);
  });
});
