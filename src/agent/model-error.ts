/**
 * Turning the error opencode records on an assistant message into a JobError. Pure.
 * opencode answers HTTP 200 even when the model failed (FIELD-NOTES), so this is how a
 * model or API failure reaches the user: kind `model`, retryable when waiting may help.
 */
import type { AssistantMessage } from "@opencode-ai/sdk/v2";
import { JobError } from "../job-error.ts";

export type AssistantError = NonNullable<AssistantMessage["error"]>;

/** Words providers use for "busy, try later", whatever the status code says. */
const transientWords = /overloaded|rate.?limit|too many requests|temporarily|unavailable|timed? ?out|ECONNRESET|ECONNREFUSED|socket hang up/i;

export function jobErrorOfAssistantError(error: AssistantError): JobError {
  const message = messageOf(error);
  switch (error.name) {
    case "APIError": {
      const status = error.data.statusCode;
      const retryable = status === 429 || status === 408 || (status !== undefined && status >= 500) || transientWords.test(message);
      const where = status === undefined ? "" : ` (HTTP ${status})`;
      return new JobError("model", `The model provider failed${where}: ${message}`, { retryable });
    }
    case "ProviderAuthError":
      return new JobError("model", `The model provider ${error.data.providerID} rejected our credentials: ${message}`, {
        nextStep: "Ask the operator to check the model provider's API key.",
      });
    case "ContextOverflowError":
      return new JobError("model", `The conversation no longer fits the model's context: ${message}`, {
        nextStep: "Split the task into smaller ones, or ask the operator for a model with a larger context.",
      });
    case "MessageAbortedError":
      return new JobError("cancelled", `The agent's work was aborted: ${message}`);
    default:
      return new JobError("model", `The model failed (${error.name}): ${message}`, { retryable: transientWords.test(message) });
  }
}

function messageOf(error: AssistantError): string {
  const data: Record<string, unknown> = error.data;
  return typeof data.message === "string" && data.message !== "" ? data.message : error.name;
}
