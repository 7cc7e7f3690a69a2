import { describe, expect, it } from "vitest";
import { jobErrorOfAssistantError, type AssistantError } from "../../src/agent/model-error.ts";

function apiError(statusCode: number | undefined, message: string): AssistantError {
  return { name: "APIError", data: { message, isRetryable: false, ...(statusCode === undefined ? {} : { statusCode }) } };
}

describe("jobErrorOfAssistantError", () => {
  it.each([
    [500, "Internal Server Error", true],
    [503, "Service Unavailable", true],
    [429, "Too Many Requests", true],
    [529, "Overloaded", true],
    [400, "Unsupported parameter: tools", false],
    [401, "Invalid API key", false],
    [404, "model not found", false],
    [undefined, "The model is overloaded, try later", true],
  ])("HTTP %s (%s) is a model error, retryable: %s", (status, message, retryable) => {
    const error = jobErrorOfAssistantError(apiError(status, message));
    expect(error).toMatchObject({ kind: "model", retryable });
    expect(error.message).toContain(message);
  });

  it("names bad credentials, context overflow and aborts", () => {
    expect(jobErrorOfAssistantError({ name: "ProviderAuthError", data: { providerID: "google", message: "no key" } })).toMatchObject({ kind: "model", retryable: false });
    expect(jobErrorOfAssistantError({ name: "ContextOverflowError", data: { message: "too long" } })).toMatchObject({ kind: "model", retryable: false });
    expect(jobErrorOfAssistantError({ name: "MessageAbortedError", data: { message: "Aborted" } })).toMatchObject({ kind: "cancelled" });
    expect(jobErrorOfAssistantError({ name: "UnknownError", data: { message: "socket hang up" } })).toMatchObject({ kind: "model", retryable: true });
  });
});
