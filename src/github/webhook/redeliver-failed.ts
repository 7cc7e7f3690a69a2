import type { ProbotOctokit } from "probot";
import type { Logger } from "pino";
import { inArray } from "drizzle-orm";
import type { Db } from "../../store/database.ts";
import { webhookDeliveries } from "../../store/webhook-deliveries.sql.ts";

/** What GitHub's delivery log tells about one attempt (`GET /app/hook/deliveries`). */
export interface DeliveryAttempt {
  id: number;
  guid: string;
  deliveredAt: Date;
  statusCode: number;
  event: string;
}

export const REDELIVERY_WINDOW_MS = 60 * 60_000;
/** A delivery that failed this many times is left alone: something is wrong beyond a blip. */
const MAX_ATTEMPTS = 3;
const EVENTS = new Set(["issue_comment", "issues", "pull_request", "pull_request_review", "pull_request_review_comment", "check_run"]);

/**
 * Pure: which attempts to redeliver. GitHub does not retry a delivery the app failed
 * (it was down, or answered 5xx); one whose every attempt failed, that we never
 * recorded, of an event we handle, from the last hour, gets one more try.
 */
export function deliveriesToRedeliver(attempts: readonly DeliveryAttempt[], processed: ReadonlySet<string>, now: Date): number[] {
  const byGuid = new Map<string, DeliveryAttempt[]>();
  for (const attempt of attempts) byGuid.set(attempt.guid, [...(byGuid.get(attempt.guid) ?? []), attempt]);
  const chosen: number[] = [];
  for (const [guid, tries] of byGuid) {
    if (processed.has(guid) || !EVENTS.has(tries[0]!.event)) continue;
    if (tries.some((attempt) => attempt.statusCode >= 200 && attempt.statusCode < 300)) continue;
    if (tries.length >= MAX_ATTEMPTS) continue;
    const latest = tries.reduce((a, b) => (a.deliveredAt > b.deliveredAt ? a : b));
    if (now.getTime() - latest.deliveredAt.getTime() > REDELIVERY_WINDOW_MS) continue;
    chosen.push(latest.id);
  }
  return chosen;
}

/** Read the app's recent delivery log and ask GitHub to redeliver what failed. */
export async function redeliverFailedDeliveries(appOctokit: ProbotOctokit, db: Db, log: Logger, now = new Date()): Promise<number[]> {
  const attempts = await listRecentAttempts(appOctokit, now);
  const guids = [...new Set(attempts.map((attempt) => attempt.guid))];
  const processed = guids.length === 0 ? [] : await db.select({ id: webhookDeliveries.deliveryId }).from(webhookDeliveries).where(inArray(webhookDeliveries.deliveryId, guids));
  const ids = deliveriesToRedeliver(attempts, new Set(processed.map((row) => row.id)), now);
  for (const id of ids) {
    await appOctokit.rest.apps.redeliverWebhookDelivery({ delivery_id: id });
    log.info({ githubDeliveryId: id }, "asked GitHub to redeliver a failed webhook delivery");
  }
  return ids;
}

async function listRecentAttempts(appOctokit: ProbotOctokit, now: Date): Promise<DeliveryAttempt[]> {
  const attempts: DeliveryAttempt[] = [];
  // Newest first; stop at the first page that reaches past the window.
  for await (const { data } of appOctokit.paginate.iterator(appOctokit.rest.apps.listWebhookDeliveries, { per_page: 100 })) {
    for (const item of data) attempts.push({ id: item.id, guid: item.guid, deliveredAt: new Date(item.delivered_at), statusCode: item.status_code, event: item.event });
    const oldest = data.at(-1);
    if (!oldest || now.getTime() - new Date(oldest.delivered_at).getTime() > REDELIVERY_WINDOW_MS) break;
  }
  return attempts;
}
