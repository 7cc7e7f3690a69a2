import type { PgBoss } from "pg-boss";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_JOB_QUEUE, startQueue, type AgentJobMessage } from "../../src/queue/boss.ts";
import { waitForInstallationTurn } from "../../src/queue/worker.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { waitUntil } from "../support/wait-until.ts";

let database: TestDatabase;
let boss: PgBoss;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});

describe("an installation's cap, kept when pg-boss's fetches race", () => {
  it("lets exactly `cap` of an installation's active jobs run, oldest first, and the next once one ends", async () => {
    // Three jobs of installation 4242 and one of 4343, all taken at once, as two racing fetches can.
    for (const [index, installation] of [4242, 4242, 4242, 4343].entries()) {
      await boss.send(AGENT_JOB_QUEUE, { jobId: `job-${index}` }, { singletonKey: `thread-${index}`, group: { id: String(installation) } });
    }
    const taken = await boss.fetch<AgentJobMessage>(AGENT_JOB_QUEUE, { batchSize: 4 });
    expect(taken).toHaveLength(4);
    const { rows } = await database.pool.query<{ id: string }>("select id from pgboss.job where group_id = '4242' order by started_on, id");
    const [first, second, third] = rows.map((row) => taken.find((job) => job.id === row.id)!);
    const other = taken.find((job) => job.groupId === "4343")!;

    const running = new Set<string>();
    const turn = (job: (typeof taken)[number]) => waitForInstallationTurn(boss, { id: job.id, groupId: job.groupId ?? null }, 1, 20).then(() => running.add(job.id));
    const turns = [first!, second!, third!, other].map(turn);
    await waitUntil(() => running.has(first!.id) && running.has(other.id), { what: "the first of each installation to go on" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([...running].sort()).toEqual([first!.id, other.id].sort());

    await boss.complete(AGENT_JOB_QUEUE, first!.id);
    await waitUntil(() => running.has(second!.id), { what: "the next of 4242 once the first ended" });
    expect(running.has(third!.id)).toBe(false);
    await boss.complete(AGENT_JOB_QUEUE, second!.id);
    await Promise.all(turns);
    expect(running.size).toBe(4);
  });

  it("lets a job with no installation group run at once", async () => {
    await expect(waitForInstallationTurn(boss, { id: "00000000-0000-4000-8000-000000000000", groupId: null }, 1, 20)).resolves.toBeUndefined();
  });
});
