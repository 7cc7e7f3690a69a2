/**
 * What a metered model call asks for, whichever provider's API it speaks. Pure.
 */
import { readAnthropicRequest } from "./anthropic-request.ts";
import { readGoogleRequest } from "./google-request.ts";
import type { ModelEndpoint } from "./model-endpoints.ts";
import { readOpenAiRequest } from "./openai-request.ts";
import type { RequestReading } from "./request-fields.ts";

export type MeteredEndpoint = Extract<ModelEndpoint, { charge: "metered" }>;

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

export function readMeteredRequest(endpoint: MeteredEndpoint, body: Record<string, unknown>, headers: RequestHeaders = {}): RequestReading {
  switch (endpoint.api) {
    case "messages":
      return readAnthropicRequest(body, listHeaderOf(headers["anthropic-beta"]));
    case "generate":
      return readGoogleRequest(endpoint.model, body);
    default:
      return readOpenAiRequest(endpoint.api, body);
  }
}

/** A comma-separated header's items, however many times it was sent. */
function listHeaderOf(value: string | string[] | undefined): string[] {
  return [value ?? []].flat().flatMap((line) => line.split(",")).map((item) => item.trim().toLowerCase()).filter((item) => item !== "");
}
