/**
 * The per-job credentials of the model gateway. A sandbox gets a token instead of the
 * model API key; the gateway accepts it until the job revokes it, it expires, or the
 * job's budget is spent. The token is shown once, at issue; the table keeps its SHA-256.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import type { Usage } from "../budget.ts";
import type { Db } from "../store/database.ts";
import { gatewayTokens, type GatewayToken } from "../store/gateway-tokens.sql.ts";
import { microsOf, usdOf } from "../budget.ts";

/** `rag_` and 32 random bytes in base64url: a fixed prefix so the log redactor can find tokens it was never told about. */
export const GATEWAY_TOKEN_PATTERN = /^rag_[A-Za-z0-9_-]{43}$/;

export interface IssuedGatewayToken {
  /** Give this to the sandbox; it cannot be read back later. */
  token: string;
  tokenHash: string;
  expiresAt: Date;
}

export interface UsageCharge {
  microUsd: number;
  tokensIn: number;
  tokensOut: number;
}

export function hashGatewayToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export async function issueGatewayToken(
  db: Db,
  options: { jobId: string | null; budgetUsd: number; ttlMs: number; now?: Date },
): Promise<IssuedGatewayToken> {
  const token = `rag_${randomBytes(32).toString("base64url")}`;
  const tokenHash = hashGatewayToken(token);
  const expiresAt = new Date((options.now ?? new Date()).getTime() + options.ttlMs);
  await db.insert(gatewayTokens).values({ tokenHash, jobId: options.jobId, budgetMicroUsd: microsOf(options.budgetUsd), expiresAt });
  return { token, tokenHash, expiresAt };
}

/**
 * A warm agent's token, issued before there is a job: no budget, refused by the gateway
 * until `bindGatewayToken` gives it to the job that takes the agent. It expires after
 * `ttlMs` if no job does (the agent is discarded before that).
 */
export function issueSpareGatewayToken(db: Db, options: { ttlMs: number; now?: Date }): Promise<IssuedGatewayToken> {
  return issueGatewayToken(db, { jobId: null, budgetUsd: 0, ttlMs: options.ttlMs, ...(options.now ? { now: options.now } : {}) });
}

/**
 * A spare's token made the job's: its budget and lifetime from now on are the job's, as if
 * issued to it. Only once, and only while it is live: false when it was bound already
 * (to this job or another), revoked, expired or unknown.
 */
export async function bindGatewayToken(db: Db, tokenHash: string, options: { jobId: string; budgetUsd: number; ttlMs: number; now?: Date }): Promise<boolean> {
  const now = options.now ?? new Date();
  const bound = await db
    .update(gatewayTokens)
    .set({ jobId: options.jobId, budgetMicroUsd: microsOf(options.budgetUsd), expiresAt: new Date(now.getTime() + options.ttlMs) })
    .where(and(eq(gatewayTokens.tokenHash, tokenHash), isNull(gatewayTokens.jobId), isNull(gatewayTokens.revokedAt), gt(gatewayTokens.expiresAt, now)))
    .returning({ tokenHash: gatewayTokens.tokenHash });
  return bound.length === 1;
}

/** Revoke one token (a spare's, discarded unused); true when it was live. */
export async function revokeGatewayToken(db: Db, tokenHash: string): Promise<boolean> {
  return (await revokeLive(db, eq(gatewayTokens.tokenHash, tokenHash))) === 1;
}

/** Revoke every live token of a job (it ended, or is handed back); returns how many were live. */
export function revokeGatewayTokens(db: Db, jobId: string): Promise<number> {
  return revokeLive(db, eq(gatewayTokens.jobId, jobId));
}

async function revokeLive(db: Db, which: SQL): Promise<number> {
  const revoked = await db
    .update(gatewayTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(which, isNull(gatewayTokens.revokedAt)))
    .returning({ tokenHash: gatewayTokens.tokenHash });
  return revoked.length;
}

export async function findGatewayToken(db: Db, tokenHash: string): Promise<GatewayToken | null> {
  const [row] = await db.select().from(gatewayTokens).where(eq(gatewayTokens.tokenHash, tokenHash));
  return row ?? null;
}

export interface Reservation {
  /** Micro-dollars now held for the request; null when not even its minimum was left. */
  reservedMicroUsd: number | null;
  /** The token's figures as the reservation found them, for the refusal's words. */
  budgetMicroUsd: number;
  spentMicroUsd: number;
  heldMicroUsd: number;
}

/**
 * Hold up to `wantedMicroUsd` of the token's budget for one request, and at least
 * `minimumMicroUsd`, or nothing. One statement under the row's lock: concurrent requests
 * of a job (subagents run in parallel) each see what the others hold, so together they
 * can never hold more than the budget has left. Returns nothing for an unknown token.
 */
export async function reserveBudget(db: Db, tokenHash: string, amounts: { wantedMicroUsd: number; minimumMicroUsd: number }): Promise<Reservation | null> {
  const wanted = countOf(amounts.wantedMicroUsd);
  const minimum = Math.min(countOf(amounts.minimumMicroUsd), wanted);
  // `current` locks the row and reads it as the latest committed update left it; the update then adds exactly what it computed.
  const result = await db.execute<{ budget: string; spent: string; held: string; reserved: string | null }>(sql`
    with current as (
      select token_hash, budget_micro_usd, spent_micro_usd, reserved_micro_usd,
             least(${wanted}::bigint, budget_micro_usd - spent_micro_usd - reserved_micro_usd) as amount
      from gateway_tokens where token_hash = ${tokenHash}
      for update
    ), reserved as (
      update gateway_tokens set reserved_micro_usd = gateway_tokens.reserved_micro_usd + current.amount
      from current
      where gateway_tokens.token_hash = current.token_hash and current.amount >= ${minimum}::bigint
      returning current.amount
    )
    select budget_micro_usd as budget, spent_micro_usd as spent, reserved_micro_usd as held, (select amount from reserved) as reserved
    from current`);
  const [row] = result.rows;
  if (!row) return null;
  return {
    reservedMicroUsd: row.reserved === null ? null : Number(row.reserved),
    budgetMicroUsd: Number(row.budget),
    spentMicroUsd: Number(row.spent),
    heldMicroUsd: Number(row.held),
  };
}

/**
 * Replace a request's reservation with its charge. A single `update … set x = x + $n`, so
 * that the concurrent requests of one job add up exactly; a read-modify-write here would
 * lose charges. The charge may be more than was reserved (a prompt the estimate
 * undercounted), and is made even when the token was revoked or expired meanwhile: the
 * provider billed the request all the same. Returns nothing for an unknown token.
 */
export async function settleReservation(db: Db, tokenHash: string, reservedMicroUsd: number, charge: UsageCharge & { counted: boolean }): Promise<GatewayToken | null> {
  const [row] = await db
    .update(gatewayTokens)
    .set({
      reservedMicroUsd: sql`greatest(${gatewayTokens.reservedMicroUsd} - ${countOf(reservedMicroUsd)}, 0)`,
      spentMicroUsd: sql`${gatewayTokens.spentMicroUsd} + ${countOf(charge.microUsd)}`,
      tokensIn: sql`${gatewayTokens.tokensIn} + ${countOf(charge.tokensIn)}`,
      tokensOut: sql`${gatewayTokens.tokensOut} + ${countOf(charge.tokensOut)}`,
      requests: sql`${gatewayTokens.requests} + ${charge.counted ? 1 : 0}`,
    })
    .where(eq(gatewayTokens.tokenHash, tokenHash))
    .returning();
  return row ?? null;
}

/** What a job's model requests cost through the gateway, all its tokens together. */
export async function readGatewayUsage(db: Db, jobId: string): Promise<Usage> {
  const [row] = await db
    .select({
      micros: sql<string>`coalesce(sum(${gatewayTokens.spentMicroUsd}), 0)`,
      tokensIn: sql<string>`coalesce(sum(${gatewayTokens.tokensIn}), 0)`,
      tokensOut: sql<string>`coalesce(sum(${gatewayTokens.tokensOut}), 0)`,
    })
    .from(gatewayTokens)
    .where(eq(gatewayTokens.jobId, jobId));
  // Postgres sums bigints into numerics, which node-postgres hands over as strings.
  return { cost: usdOf(Number(row?.micros ?? 0)), tokensIn: Number(row?.tokensIn ?? 0), tokensOut: Number(row?.tokensOut ?? 0) };
}

/** Usage numbers come from provider replies: anything but a non-negative finite number counts as zero. */
function countOf(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
