/**
 * One metered model call (`model-endpoints.ts`): the gateway's promise that a job spends
 * no more than its budget, however its requests are shaped or timed.
 *
 * 1. read the whole request and refuse what cannot be charged exactly, 2. find its model
 * in the provider's allow-list, 3. reserve its worst case in one atomic update, 4. forward
 * it with its output limit clamped to what the reservation pays for, 5. settle the
 * reservation to the usage the answer reported (or keep it whole when none came), before
 * the client sees the end of the answer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { formatUsd, usdOf } from "../budget.ts";
import type { Db } from "../store/database.ts";
import { forwardToProvider, type ForwardResult, type ProviderTarget } from "./forward-request.ts";
import { sendGatewayError } from "./gateway-errors.ts";
import { reserveBudget, settleReservation, type Reservation } from "./gateway-tokens.ts";
import { readMeteredRequest, type MeteredEndpoint } from "./metered-request.ts";
import { modelTermsOf, type GatewayModel, type ModelPricing } from "./pricing.ts";
import { readRequestBody, requestObjectOf } from "./request-body.ts";
import { clampMaxTokens, MIN_ANSWER_TOKENS, planReservation, settlementOf } from "./request-budget.ts";
import { isRefusal } from "./request-fields.ts";

export interface MeteredCall {
  db: Db;
  req: IncomingMessage;
  res: ServerResponse;
  /** The provider's name in the gateway's paths, for messages. */
  providerName: string;
  provider: { models: Readonly<Record<string, GatewayModel>>; pricing?: ModelPricing };
  target: ProviderTarget;
  endpoint: MeteredEndpoint;
  tokenHash: string;
  log: Logger;
}

export async function forwardMeteredCall(call: MeteredCall): Promise<void> {
  const { db, res, target, log } = call;
  // 1. The request, whole.
  const body = await readRequestBody(call.req);
  if (!body) return sendGatewayError(res, target.kind, "too_large", "The model request is too large for the model gateway.");
  const object = requestObjectOf(body);
  if (!object) return sendGatewayError(res, target.kind, "invalid_request", "The model gateway cannot read this request: its body is not a JSON object.");
  const request = readMeteredRequest(call.endpoint, object, call.req.headers);
  if (isRefusal(request)) {
    log.warn({ path: target.url.pathname, refusal: request.refusal }, request.message);
    return sendGatewayError(res, target.kind, request.refusal, request.message);
  }
  // 2. A model the provider lists, at its own price.
  const terms = modelTermsOf(call.provider, request.model);
  if (!terms) {
    const listed = Object.keys(call.provider.models).join(", ");
    log.warn({ model: request.model }, "model request refused: the model is not in the provider's allow-list");
    return sendGatewayError(res, target.kind, "model_not_allowed", `The model gateway does not forward the model "${request.model}" to the provider "${call.providerName}"; jobs may use: ${listed}.`);
  }
  // 3. The worst case, reserved.
  const plan = planReservation(request, terms);
  const reservation = await reserveBudget(db, call.tokenHash, plan);
  if (!reservation) return sendGatewayError(res, target.kind, "unauthenticated", "The model gateway refused the job's token: it is unknown, revoked or expired.");
  const reserved = reservation.reservedMicroUsd;
  if (reserved === null) {
    log.info({ ...reservation, minimumMicroUsd: plan.minimumMicroUsd }, "model request refused: the budget left cannot pay for it");
    return sendGatewayError(res, target.kind, "budget_exceeded", shortfallMessage(reservation, plan.minimumMicroUsd));
  }
  // 4. Forward, asking for no more output than the reservation pays for.
  const maxTokens = clampMaxTokens(reserved, request.promptTokens, plan.outputTokens, terms.pricing);
  const forwarded = Buffer.from(JSON.stringify(request.withOutputLimit(maxTokens)), "utf8");
  const started = Date.now();
  let answer: ForwardResult;
  try {
    answer = await forwardToProvider(call.req, res, target, forwarded);
  } catch (error) {
    // Whatever the provider did with it is unknown: the reservation stays charged.
    await settleReservation(db, call.tokenHash, reserved, { microUsd: reserved, tokensIn: 0, tokensOut: 0, counted: true });
    throw error;
  }
  // 5. Settle, then let the client see the end of the answer.
  const charge = settlementOf(reserved, answer, terms.pricing);
  // A settlement that fails is logged, not turned into a broken answer: the client would retry, and pay twice.
  await settleReservation(db, call.tokenHash, reserved, charge).catch((error: unknown) =>
    log.error({ err: error, reservedMicroUsd: reserved, ...charge }, "settling a model request's reservation failed"),
  );
  if (answer.failure) sendGatewayError(res, target.kind, "bad_gateway", answer.failure);
  else if (!res.writableEnded && !res.destroyed) res.end();
  // The path only: a query string could carry what a client thought was a key.
  const facts = { path: target.url.pathname, model: request.model, ms: Date.now() - started, status: answer.status, completed: answer.completed, usageReported: answer.usageReported };
  log.info({ ...facts, reservedMicroUsd: reserved, maxTokens, ...charge }, answer.status === null ? "model request got no answer" : "model request forwarded");
}

function shortfallMessage(reservation: Reservation, minimumMicroUsd: number): string {
  const [budget, spent, held, needed] = [reservation.budgetMicroUsd, reservation.spentMicroUsd, reservation.heldMicroUsd, minimumMicroUsd].map((micros) => formatUsd(usdOf(micros)));
  return (
    `This job's model budget of ${budget} cannot pay for this request: ${spent} is spent, ${held} is held by requests in flight, ` +
    `and the request needs at least ${needed} (its prompt and a ${MIN_ANSWER_TOKENS.toLocaleString("en-US")}-token answer); it is not forwarded.`
  );
}
