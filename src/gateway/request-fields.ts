/**
 * What the provider readers (`openai-request.ts`, `anthropic-request.ts`,
 * `google-request.ts`) share: the shape of a read request, and checks on fields. Pure.
 *
 * A field is checked for the value the provider would act on, not the one it should get:
 * some providers coerce `"n": "2"` or `"background": "true"` to the real thing, so only an
 * absent field, null, or the harmless value passes.
 */
import { isRecord } from "../json.ts";
import type { RequestSize } from "./request-budget.ts";

export interface MeteredRequest extends RequestSize {
  /** The model the request names, to be found in the provider's allow-list. */
  model: string;
  /** The body to forward: `tokens` as its output limit, usage reporting switched on. */
  withOutputLimit(tokens: number): Record<string, unknown>;
}

export interface RequestRefusal {
  refusal: "invalid_request" | "unmeterable";
  message: string;
}

export type RequestReading = MeteredRequest | RequestRefusal;

export function isRefusal(reading: unknown): reading is RequestRefusal {
  return isRecord(reading) && typeof reading.refusal === "string";
}

export function invalidRequest(message: string): RequestRefusal {
  return { refusal: "invalid_request", message: `The model gateway cannot read this request: ${message}.` };
}

export function unmeterable(message: string): RequestRefusal {
  return { refusal: "unmeterable", message: `The model gateway refuses what it cannot charge exactly: ${message}.` };
}

export function isUnset(value: unknown): boolean {
  return value === undefined || value === null;
}

/** True when `body[field]` is absent, null, or one of `harmless`. */
export function isUnsetOr(body: Record<string, unknown>, field: string, ...harmless: unknown[]): boolean {
  return isUnset(body[field]) || harmless.includes(body[field]);
}

/** The output limit in `container[field]`: undefined when absent, a refusal when it is no positive integer. */
export function outputLimitOf(container: Record<string, unknown>, field: string): number | undefined | RequestRefusal {
  const value = container[field];
  if (isUnset(value)) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) return invalidRequest(`${field} must be a positive integer`);
  return value;
}

/** The first of `tools` that `allowed` does not accept, named by its type (or its keys); null when all pass. */
export function firstToolNotAllowed(tools: unknown, allowed: (tool: Record<string, unknown>) => boolean): string | null {
  if (isUnset(tools)) return null;
  if (!Array.isArray(tools)) return "tools that are not a list";
  for (const tool of tools) {
    if (!isRecord(tool)) return "a tool that is not an object";
    if (!allowed(tool)) return typeof tool.type === "string" ? tool.type : Object.keys(tool).join(", ");
  }
  return null;
}

export function serverToolRefusal(name: string): RequestRefusal {
  return unmeterable(`the tool "${name}" runs on the provider's side (searches, code, fetches are billed apart from tokens); only the client's own tools are forwarded`);
}
