import { setTimeout as delay } from "node:timers/promises";
import type { Db } from "../store/database.ts";
import { findJob, listJobEvents } from "../store/job-queries.ts";
import { eventToJson, jobToJson } from "./job-json.ts";

/** What a follower of a job is told: a log entry, or the job as it is now. */
export type JobFeedItem = { kind: "log"; event: ReturnType<typeof eventToJson> } | { kind: "job"; job: ReturnType<typeof jobToJson> };

export interface FollowOptions {
  /** Log entries up to this id are not sent again (a reconnecting client's `Last-Event-ID`). */
  lastEventId?: number;
  /** How often the database is asked for what is new. */
  pollMs?: number;
  /** Aborted when the client has left: the feed stops at once, without another query. */
  signal: AbortSignal;
}

/**
 * A job's log so far, then each new log entry and each change of the job's state as
 * Postgres shows them, polled every `pollMs`; it ends after the job's last state once the
 * job has ended (or is gone), or when `signal` aborts. The one loop behind the event stream
 * and the WebSocket, so both tell a client the same: any web process can serve either.
 */
export async function* followJob(db: Db, jobId: string, options: FollowOptions): AsyncGenerator<JobFeedItem, void, undefined> {
  const pollMs = options.pollMs ?? 500;
  let lastEventId = options.lastEventId ?? 0;
  let lastState = "";
  while (!options.signal.aborted) {
    const job = await findJob(db, jobId);
    if (!job || options.signal.aborted) return;
    for (const event of await listJobEvents(db, jobId, lastEventId)) {
      yield { kind: "log", event: eventToJson(event) };
      lastEventId = event.id;
    }
    const shown = jobToJson(job);
    const state = JSON.stringify(shown);
    if (state !== lastState) {
      yield { kind: "job", job: shown };
      lastState = state;
    }
    if (job.finishedAt !== null) return;
    // An abort ends the wait early (it rejects): the loop's condition then ends the feed.
    await delay(pollMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
