/**
 * The gateway's own refusals, in the error shape of the provider the client thinks it is
 * talking to: the AI SDK inside opencode reads the message from that shape, and the
 * message is what ends up on the job's thread ("The model provider failed (HTTP 402): …").
 */
import type { ServerResponse } from "node:http";

export type ProviderKind = "openai" | "anthropic" | "google";

export type GatewayRefusal =
  | "unauthenticated"
  | "budget_exceeded"
  | "not_found"
  | "too_large"
  | "bad_gateway"
  | "invalid_request"
  | "unmeterable"
  | "model_not_allowed";

const statusOf: Record<GatewayRefusal, { http: number; google: string }> = {
  unauthenticated: { http: 401, google: "UNAUTHENTICATED" },
  // 402, not 429: opencode retries 429 and 5xx for about a minute, and waiting does not refill a budget.
  budget_exceeded: { http: 402, google: "RESOURCE_EXHAUSTED" },
  not_found: { http: 404, google: "NOT_FOUND" },
  too_large: { http: 413, google: "INVALID_ARGUMENT" },
  // A body the gateway cannot read, or a feature it cannot charge: sending it again will not help.
  invalid_request: { http: 400, google: "INVALID_ARGUMENT" },
  unmeterable: { http: 400, google: "INVALID_ARGUMENT" },
  model_not_allowed: { http: 403, google: "PERMISSION_DENIED" },
  bad_gateway: { http: 502, google: "UNAVAILABLE" },
};

/** The JSON error body and status code for a refusal; `gateway_<refusal>` is the code a caller can tell it apart by. */
export function gatewayErrorOf(kind: ProviderKind, refusal: GatewayRefusal, message: string): { status: number; body: unknown } {
  const { http, google } = statusOf[refusal];
  const code = `gateway_${refusal}`;
  switch (kind) {
    case "anthropic":
      return { status: http, body: { type: "error", error: { type: code, message } } };
    case "google":
      return { status: http, body: { error: { code: http, message, status: google } } };
    default:
      return { status: http, body: { error: { message, type: code, code } } };
  }
}

export function sendGatewayError(res: ServerResponse, kind: ProviderKind, refusal: GatewayRefusal, message: string): void {
  const { status, body } = gatewayErrorOf(kind, refusal, message);
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}
