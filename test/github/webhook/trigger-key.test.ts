import { describe, expect, it } from "vitest";
import { triggerKeyOf, type TriggerPayload } from "../../../src/github/webhook/trigger-key.ts";
import { checkRunActionPayload, issueCommentPayload, issueLabeledPayload, reviewCommentPayload, reviewSubmittedPayload } from "../../support/github-fixtures.ts";

const keyOf = (event: string, payload: Record<string, unknown>) => triggerKeyOf(event, payload as TriggerPayload);

describe("triggerKeyOf", () => {
  it("names a comment, a review comment and a review by their ids, whatever the delivery", () => {
    expect(keyOf("issue_comment", issueCommentPayload({ body: "/agent x", commentId: 9001 }))).toBe("issue_comment.created:9001");
    expect(keyOf("pull_request_review_comment", reviewCommentPayload({ body: "/agent x", commentId: 9101 }))).toBe("pull_request_review_comment.created:9101");
    expect(keyOf("pull_request_review", reviewSubmittedPayload({ body: "/agent x", reviewId: 8801 }))).toBe("pull_request_review.submitted:8801");
  });

  it("tells a label added again later from the same label event replayed", () => {
    const labeled = issueLabeledPayload({ label: "agent" });
    const again = structuredClone(labeled);
    (again.issue as Record<string, unknown>).updated_at = "2030-01-01T00:00:00Z";
    expect(keyOf("issues", labeled)).toBe(keyOf("issues", structuredClone(labeled)));
    expect(keyOf("issues", labeled)).not.toBe(keyOf("issues", again));
    expect(keyOf("issues", labeled)).toMatch(/^issues\.labeled:\d+:\d+:/);
  });

  it("gives the check run's Retry button none: the retry itself detaches the check run", () => {
    expect(keyOf("check_run", checkRunActionPayload({ identifier: "retry", checkRunId: 6001 }))).toBeNull();
  });
});
