import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { PgBoss } from "pg-boss";
import type pg from "pg";
import type { Logger } from "pino";
import { NO_ISSUE } from "../store/jobs.sql.ts";

/**
 * `key_strict_fifo` on the thread (repository + issue or pull request number): a thread's
 * jobs run one at a time, in the order they were asked for, while other threads go on. A
 * job in retry (handed back, or its worker died) keeps its thread's place. The policy of a
 * queue cannot be changed once created, hence a new name for it ("agent-job" was standard).
 */
export const AGENT_JOB_QUEUE = "agent-jobs";
/**
 * Retries after the first attempt, for any reason: worker crashes (heartbeat lapsed), a
 * stopping worker's hand-back, transient failures. A job counts its transient failures
 * against its own limit (`maxAttempts`, src/jobs/loop-settings.ts), which is this number of
 * attempts, first included: the queue always has a retry left when a job hands itself back.
 */
export const AGENT_JOB_RETRY_LIMIT = 3;
export const BOSS_SCHEMA = "pgboss";

export interface AgentJobMessage {
  jobId: string;
}

/**
 * SQL: a worker holds the queue message of the job `jobId` names. Its handler is still
 * running, and shows the job's end itself; it lets go only after that (or when its
 * heartbeat lapses).
 */
export function heldByWorker(jobId: SQLWrapper): SQL {
  return sql`exists (select 1 from ${sql.raw(BOSS_SCHEMA)}.job as message where message.name = ${AGENT_JOB_QUEUE} and message.state = 'active' and message.data->>'jobId' = ${jobId}::text)`;
}

/** Where a job belongs: its thread (run one at a time) and its installation (capped together). */
export interface JobPlacement {
  id: string;
  repoId: number;
  issueNumber: number;
  installationId: number;
  /** A pipeline step is keyed by its run and step, not its thread: steps ready together run in parallel. */
  pipelineRunId?: string | null;
  pipelineStep?: string | null;
}

export interface QueueSettings {
  /** A job's wall-clock limit; pg-boss must not expire it earlier. */
  jobTimeoutSeconds: number;
  /**
   * First retry delay; it doubles with each retry (tests shorten it). It also delays the
   * takeover of a dead worker's job, so it stays short: Octokit has already retried quick
   * GitHub blips, and opencode the model's.
   */
  retryDelaySeconds?: number;
  /** A job whose worker has been silent this long is failed over to another worker. */
  heartbeatSeconds: number;
}

/**
 * pg-boss in its own schema. Heartbeats let another worker take over a job whose worker
 * died (SIGKILL, lost machine) within about a minute; retries with backoff cover
 * transient failures the runner chose to hand back to the queue.
 */
export async function startQueue(url: string, settings: QueueSettings, log: Logger): Promise<PgBoss> {
  // LISTEN/NOTIFY wakes a worker the moment a job is committed; polling stays as the backstop.
  const boss = new PgBoss({
    connectionString: url,
    schema: BOSS_SCHEMA,
    max: 4,
    useListenNotify: true,
    // How often lapsed heartbeats are looked for (pg-boss does it in its monitor pass): a
    // dead worker's job moves on within about heartbeat + a third of it, not a minute more.
    superviseIntervalSeconds: Math.max(5, Math.round(settings.heartbeatSeconds / 3)),
    monitorIntervalSeconds: Math.max(5, Math.round(settings.heartbeatSeconds / 3)),
  });
  boss.on("error", (error: unknown) => log.error({ err: error }, "queue error"));
  await boss.start();
  const queueOptions = {
    notify: true,
    retryLimit: AGENT_JOB_RETRY_LIMIT,
    retryDelay: settings.retryDelaySeconds ?? 5,
    retryBackoff: true,
    retryDelayMax: 300,
    // Margin beyond the job's own limit: the runner ends the job itself, cleanly, first.
    expireInSeconds: settings.jobTimeoutSeconds + 300,
    heartbeatSeconds: settings.heartbeatSeconds,
  };
  await boss.createQueue(AGENT_JOB_QUEUE, { ...queueOptions, policy: "key_strict_fifo" });
  // createQueue leaves an existing queue as it was; bring its settings up to date.
  await boss.updateQueue(AGENT_JOB_QUEUE, queueOptions);
  return boss;
}

/** Enqueue through `client`, inside the caller's transaction. */
export async function enqueueAgentJob(boss: PgBoss, client: pg.PoolClient, message: AgentJobMessage, placement: JobPlacement): Promise<void> {
  await boss.send(AGENT_JOB_QUEUE, { ...message }, {
    singletonKey: threadKeyOf(placement),
    group: { id: String(placement.installationId) },
    db: { executeSql: (text, values) => client.query(text, values) },
  });
}

export function threadKeyOf(placement: Pick<JobPlacement, "id" | "repoId" | "issueNumber" | "pipelineRunId" | "pipelineStep">): string {
  if (placement.pipelineRunId) return `${placement.repoId}#run:${placement.pipelineRunId}:${placement.pipelineStep ?? ""}`;
  // A task without an issue is a thread of its own: it waits behind no other.
  if (placement.issueNumber === NO_ISSUE) return `${placement.repoId}#job:${placement.id}`;
  return `${placement.repoId}#${placement.issueNumber}`;
}
