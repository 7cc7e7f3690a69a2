import { describe, expect, it } from "vitest";
import { githubJobError, statusOf } from "../../src/github/http-status.ts";

const failed = (status?: number) => Object.assign(new Error("HttpError"), status === undefined ? {} : { status });

describe("githubJobError", () => {
  it("says what failed and the status, and retries what GitHub may answer next time", () => {
    for (const status of [undefined, 500, 502, 429]) {
      expect(githubJobError(failed(status), "reading issue #7")).toMatchObject({ kind: "github", retryable: true, message: `GitHub failed reading issue #7 (HTTP ${status ?? "error"})` });
    }
  });

  it("does not retry a refusal, and adds the hint saying what to check", () => {
    const error = githubJobError(failed(403), "issuing a token for this repository", "is the app still installed with contents: write?");
    expect(error).toMatchObject({ retryable: false, message: "GitHub failed issuing a token for this repository (HTTP 403); is the app still installed with contents: write?" });
    expect(error.cause).toMatchObject({ status: 403 });
    // The hint is for the user's side; a GitHub outage is not theirs to check.
    expect(githubJobError(failed(503), "issuing a token", "check the app").message).toBe("GitHub failed issuing a token (HTTP 503)");
  });

  it("reads a status only where it is a number", () => {
    expect(statusOf({ status: "404" })).toBeUndefined();
    expect(statusOf(null)).toBeUndefined();
    expect(statusOf(failed(404))).toBe(404);
  });
});
