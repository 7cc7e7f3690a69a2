import fc from "fast-check";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chargeUsage, findGatewayToken, GATEWAY_TOKEN_PATTERN, hashGatewayToken, issueGatewayToken, readGatewayUsage, revokeGatewayTokens } from "../../src/gateway/gateway-tokens.ts";
import { gatewayTokens } from "../../src/store/gateway-tokens.sql.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { jobFixture } from "../support/job-fixture.ts";

let database: TestDatabase;

async function insertJob(): Promise<string> {
  const { id: _id, ...job } = jobFixture();
  const [row] = await database.db.insert(jobs).values(job).returning({ id: jobs.id });
  return row!.id;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe("gateway tokens", () => {
  it("issues a prefixed random token and stores only its hash, the budget in micro-dollars", async () => {
    const jobId = await insertJob();
    const now = new Date("2026-11-24T10:00:00Z");
    const issued = await issueGatewayToken(database.db, { jobId, budgetUsd: 5.25, ttlMs: 3_600_000, now });

    expect(issued.token).toMatch(GATEWAY_TOKEN_PATTERN);
    expect(issued.tokenHash).toBe(hashGatewayToken(issued.token));
    expect(issued.expiresAt).toEqual(new Date("2026-11-24T11:00:00Z"));
    const rows = await database.pool.query("select * from gateway_tokens where job_id = $1", [jobId]);
    expect(rows.rows).toHaveLength(1);
    expect(JSON.stringify(rows.rows)).not.toContain(issued.token);
    expect(rows.rows[0]).toMatchObject({ token_hash: issued.tokenHash, budget_micro_usd: "5250000", spent_micro_usd: "0", requests: 0, revoked_at: null });
    const second = await issueGatewayToken(database.db, { jobId, budgetUsd: 1, ttlMs: 1 });
    expect(second.token).not.toBe(issued.token);
  });

  it("revokes every live token of a job, and only that job's", async () => {
    const jobId = await insertJob();
    const otherJob = await insertJob();
    const [a, b, other] = await Promise.all([
      issueGatewayToken(database.db, { jobId, budgetUsd: 1, ttlMs: 60_000 }),
      issueGatewayToken(database.db, { jobId, budgetUsd: 1, ttlMs: 60_000 }),
      issueGatewayToken(database.db, { jobId: otherJob, budgetUsd: 1, ttlMs: 60_000 }),
    ]);

    expect(await revokeGatewayTokens(database.db, jobId)).toBe(2);
    expect(await revokeGatewayTokens(database.db, jobId)).toBe(0);
    expect((await findGatewayToken(database.db, a.tokenHash))?.revokedAt).toBeInstanceOf(Date);
    expect((await findGatewayToken(database.db, b.tokenHash))?.revokedAt).toBeInstanceOf(Date);
    expect((await findGatewayToken(database.db, other.tokenHash))?.revokedAt).toBeNull();
  });

  it("adds concurrent charges up exactly", async () => {
    const charge = fc.record({ microUsd: fc.nat(5_000_000), tokensIn: fc.nat(200_000), tokensOut: fc.nat(50_000) });
    await fc.assert(
      fc.asyncProperty(fc.array(charge, { minLength: 1, maxLength: 25 }), async (charges) => {
        const { tokenHash } = await issueGatewayToken(database.db, { jobId: await insertJob(), budgetUsd: 1, ttlMs: 60_000 });
        await Promise.all(charges.map((one) => chargeUsage(database.db, tokenHash, one)));
        const row = await findGatewayToken(database.db, tokenHash);
        expect(row).toMatchObject({
          spentMicroUsd: charges.reduce((sum, one) => sum + one.microUsd, 0),
          tokensIn: charges.reduce((sum, one) => sum + one.tokensIn, 0),
          tokensOut: charges.reduce((sum, one) => sum + one.tokensOut, 0),
          requests: charges.length,
        });
      }),
      { numRuns: 20 },
    );
  });

  it("sums a job's usage over its tokens, in dollars, and goes with its job", async () => {
    const jobId = await insertJob();
    const first = await issueGatewayToken(database.db, { jobId, budgetUsd: 1, ttlMs: 60_000 });
    const second = await issueGatewayToken(database.db, { jobId, budgetUsd: 1, ttlMs: 60_000 });
    await chargeUsage(database.db, first.tokenHash, { microUsd: 100_000, tokensIn: 1_000, tokensOut: 10 });
    await chargeUsage(database.db, second.tokenHash, { microUsd: 200_000, tokensIn: 2_000, tokensOut: 20 });
    // A charge from a provider reply with nonsense in it adds nothing but the request.
    await chargeUsage(database.db, second.tokenHash, { microUsd: Number.NaN, tokensIn: -3, tokensOut: Number.POSITIVE_INFINITY });

    expect(await readGatewayUsage(database.db, jobId)).toEqual({ cost: 0.3, tokensIn: 3_000, tokensOut: 30 });
    expect(await readGatewayUsage(database.db, await insertJob())).toEqual({ cost: 0, tokensIn: 0, tokensOut: 0 });
    expect(await chargeUsage(database.db, hashGatewayToken("rag_unknown"), { microUsd: 1, tokensIn: 1, tokensOut: 1 })).toBeNull();
    await database.db.delete(jobs).where(eq(jobs.id, jobId));
    expect(await database.db.select().from(gatewayTokens).where(eq(gatewayTokens.jobId, jobId))).toEqual([]);
  });
});
