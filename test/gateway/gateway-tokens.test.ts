import fc from "fast-check";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findGatewayToken,
  GATEWAY_TOKEN_PATTERN,
  hashGatewayToken,
  bindGatewayToken,
  issueGatewayToken,
  issueSpareGatewayToken,
  readGatewayUsage,
  reserveBudget,
  revokeGatewayToken,
  revokeGatewayTokens,
  settleReservation,
} from "../../src/gateway/gateway-tokens.ts";
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

describe("a warm agent's gateway token", () => {
  it("is worth nothing until bound, and is bound once: to the first job that takes it, with that job's budget and lifetime", async () => {
    const now = new Date("2026-12-06T10:00:00Z");
    const spare = await issueSpareGatewayToken(database.db, { ttlMs: 40 * 60_000, now });
    expect(spare.token).toMatch(GATEWAY_TOKEN_PATTERN);
    expect(await findGatewayToken(database.db, spare.tokenHash)).toMatchObject({ jobId: null, budgetMicroUsd: 0 });
    // Nothing can be reserved on it: the gateway refuses it before that, and the budget holds regardless.
    expect(await reserveBudget(database.db, spare.tokenHash, { wantedMicroUsd: 10, minimumMicroUsd: 1 })).toMatchObject({ reservedMicroUsd: null });

    const [first, second] = [await insertJob(), await insertJob()];
    const later = new Date(now.getTime() + 60_000);
    expect(await bindGatewayToken(database.db, spare.tokenHash, { jobId: first, budgetUsd: 2.5, ttlMs: 3_600_000, now: later })).toBe(true);
    expect(await findGatewayToken(database.db, spare.tokenHash)).toMatchObject({ jobId: first, budgetMicroUsd: 2_500_000, expiresAt: new Date(later.getTime() + 3_600_000) });
    // Another job cannot take it over, nor the same one extend it.
    expect(await bindGatewayToken(database.db, spare.tokenHash, { jobId: second, budgetUsd: 100, ttlMs: 3_600_000, now: later })).toBe(false);
    expect(await bindGatewayToken(database.db, spare.tokenHash, { jobId: first, budgetUsd: 100, ttlMs: 3_600_000, now: later })).toBe(false);
    expect(await findGatewayToken(database.db, spare.tokenHash)).toMatchObject({ jobId: first, budgetMicroUsd: 2_500_000 });
    // The job's end revokes it with the job's other tokens.
    expect(await revokeGatewayTokens(database.db, first)).toBe(1);
  });

  it("cannot be bound once revoked (its agent discarded) or expired, nor when it is unknown", async () => {
    const jobId = await insertJob();
    const now = new Date("2026-12-06T10:00:00Z");
    const discarded = await issueSpareGatewayToken(database.db, { ttlMs: 60_000, now });
    expect(await revokeGatewayToken(database.db, discarded.tokenHash)).toBe(true);
    expect(await revokeGatewayToken(database.db, discarded.tokenHash)).toBe(false);
    expect(await bindGatewayToken(database.db, discarded.tokenHash, { jobId, budgetUsd: 1, ttlMs: 60_000, now })).toBe(false);

    const stale = await issueSpareGatewayToken(database.db, { ttlMs: 60_000, now });
    expect(await bindGatewayToken(database.db, stale.tokenHash, { jobId, budgetUsd: 1, ttlMs: 60_000, now: new Date(now.getTime() + 60_000) })).toBe(false);
    expect(await bindGatewayToken(database.db, hashGatewayToken("rag_unknown"), { jobId, budgetUsd: 1, ttlMs: 60_000, now })).toBe(false);
    expect(await findGatewayToken(database.db, stale.tokenHash)).toMatchObject({ jobId: null, budgetMicroUsd: 0 });
  });
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
        await Promise.all(charges.map((one) => settleReservation(database.db, tokenHash, 0, { ...one, counted: true })));
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
    await settleReservation(database.db, first.tokenHash, 0, { microUsd: 100_000, tokensIn: 1_000, tokensOut: 10, counted: true });
    await settleReservation(database.db, second.tokenHash, 0, { microUsd: 200_000, tokensIn: 2_000, tokensOut: 20, counted: true });
    // A charge from a provider reply with nonsense in it adds nothing but the request.
    await settleReservation(database.db, second.tokenHash, 0, { microUsd: Number.NaN, tokensIn: -3, tokensOut: Number.POSITIVE_INFINITY, counted: true });

    expect(await readGatewayUsage(database.db, jobId)).toEqual({ cost: 0.3, tokensIn: 3_000, tokensOut: 30 });
    expect(await readGatewayUsage(database.db, await insertJob())).toEqual({ cost: 0, tokensIn: 0, tokensOut: 0 });
    expect(await settleReservation(database.db, hashGatewayToken("rag_unknown"), 0, { microUsd: 1, tokensIn: 1, tokensOut: 1, counted: true })).toBeNull();
    await database.db.delete(jobs).where(eq(jobs.id, jobId));
    expect(await database.db.select().from(gatewayTokens).where(eq(gatewayTokens.jobId, jobId))).toEqual([]);
  });
});

describe("gateway budget reservations", () => {
  async function newToken(budgetUsd: number): Promise<string> {
    const { tokenHash } = await issueGatewayToken(database.db, { jobId: await insertJob(), budgetUsd, ttlMs: 60_000 });
    return tokenHash;
  }

  it("hold the whole worst case when the budget allows, what is left when it does not, and nothing below the minimum", async () => {
    const tokenHash = await newToken(1);
    expect(await reserveBudget(database.db, tokenHash, { wantedMicroUsd: 600_000, minimumMicroUsd: 100_000 })).toEqual({ reservedMicroUsd: 600_000, budgetMicroUsd: 1_000_000, spentMicroUsd: 0, heldMicroUsd: 0 });
    expect(await reserveBudget(database.db, tokenHash, { wantedMicroUsd: 600_000, minimumMicroUsd: 100_000 })).toMatchObject({ reservedMicroUsd: 400_000, heldMicroUsd: 600_000 });
    expect(await reserveBudget(database.db, tokenHash, { wantedMicroUsd: 600_000, minimumMicroUsd: 1 })).toMatchObject({ reservedMicroUsd: null, heldMicroUsd: 1_000_000 });
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ reservedMicroUsd: 1_000_000, spentMicroUsd: 0 });
    expect(await reserveBudget(database.db, hashGatewayToken("rag_unknown"), { wantedMicroUsd: 1, minimumMicroUsd: 1 })).toBeNull();
  });

  it("settle to the charge, releasing the rest, or keep it whole", async () => {
    const tokenHash = await newToken(1);
    await reserveBudget(database.db, tokenHash, { wantedMicroUsd: 300_000, minimumMicroUsd: 1 });
    await reserveBudget(database.db, tokenHash, { wantedMicroUsd: 200_000, minimumMicroUsd: 1 });
    await settleReservation(database.db, tokenHash, 300_000, { microUsd: 12_345, tokensIn: 1_000, tokensOut: 500, counted: true });
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ reservedMicroUsd: 200_000, spentMicroUsd: 12_345, tokensIn: 1_000, tokensOut: 500, requests: 1 });
    await settleReservation(database.db, tokenHash, 200_000, { microUsd: 200_000, tokensIn: 10, tokensOut: 0, counted: true });
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ reservedMicroUsd: 0, spentMicroUsd: 212_345, requests: 2 });
    // Released: a request the provider never saw.
    await reserveBudget(database.db, tokenHash, { wantedMicroUsd: 50_000, minimumMicroUsd: 1 });
    await settleReservation(database.db, tokenHash, 50_000, { microUsd: 0, tokensIn: 0, tokensOut: 0, counted: false });
    expect(await findGatewayToken(database.db, tokenHash)).toMatchObject({ reservedMicroUsd: 0, spentMicroUsd: 212_345, requests: 2 });
  });

  it("never hold more than the budget, however many requests reserve at once", async () => {
    const request = fc.record({ wantedMicroUsd: fc.integer({ min: 1, max: 400_000 }), minimumShare: fc.double({ min: 0, max: 1, noNaN: true }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 300_000 }), fc.array(request, { minLength: 2, maxLength: 24 }), async (spentMicroUsd, requests) => {
        const tokenHash = await newToken(1);
        await settleReservation(database.db, tokenHash, 0, { microUsd: spentMicroUsd, tokensIn: 0, tokensOut: 0, counted: true });
        const asked = requests.map(({ wantedMicroUsd, minimumShare }) => ({ wantedMicroUsd, minimumMicroUsd: Math.floor(wantedMicroUsd * minimumShare) }));
        const reservations = await Promise.all(asked.map((amounts) => reserveBudget(database.db, tokenHash, amounts)));

        const held = reservations.reduce((sum, one) => sum + (one?.reservedMicroUsd ?? 0), 0);
        const row = (await findGatewayToken(database.db, tokenHash))!;
        expect(row.reservedMicroUsd).toBe(held);
        expect(row.spentMicroUsd + held).toBeLessThanOrEqual(row.budgetMicroUsd);
        const left = row.budgetMicroUsd - row.spentMicroUsd - held;
        reservations.forEach((reservation, index) => {
          const { wantedMicroUsd, minimumMicroUsd } = asked[index]!;
          const reserved = reservation!.reservedMicroUsd;
          // Nothing settles here, so what is left only shrinks: a refusal or a cut-down grant means it is still too little now.
          if (reserved === null) expect(left).toBeLessThan(minimumMicroUsd);
          else {
            expect(reserved).toBeGreaterThanOrEqual(minimumMicroUsd);
            expect(reserved).toBeLessThanOrEqual(wantedMicroUsd);
            if (reserved < wantedMicroUsd) expect(left).toBe(0);
          }
        });
      }),
      { numRuns: 25 },
    );
  });
});
