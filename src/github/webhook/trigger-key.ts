/**
 * What a webhook delivery is about, independent of its `X-GitHub-Delivery` id. Pure.
 *
 * GitHub signs the body, not the delivery id, so a signed body can be replayed under a
 * new id; it would pass the signature check and the once-per-delivery rule. The key is
 * unique in `webhook_deliveries`, so a comment, a label event or a review is acted on at
 * most once whatever the delivery id (DESIGN §6).
 */
export interface TriggerPayload {
  action?: string;
  comment?: { id: number };
  review?: { id: number };
  issue?: { id: number; updated_at?: string };
  label?: { id?: number; name?: string };
  repository?: { id: number };
  check_suite?: { head_sha: string };
  workflow_run?: { head_sha: string };
}

export function triggerKeyOf(event: string, payload: TriggerPayload): string | null {
  const kind = `${event}.${payload.action ?? ""}`;
  switch (event) {
    case "issue_comment":
    case "pull_request_review_comment":
      return payload.comment ? `${kind}:${payload.comment.id}` : null;
    case "pull_request_review":
      return payload.review ? `${kind}:${payload.review.id}` : null;
    case "issues":
      // A label event has no id of its own. The issue's `updated_at` moves with every
      // change of its labels, so removing the label and adding it again is a new key,
      // while the same event replayed is the same one.
      if (!payload.issue || !payload.label) return null;
      return `${kind}:${payload.issue.id}:${payload.label.id ?? payload.label.name ?? ""}:${payload.issue.updated_at ?? ""}`;
    case "check_suite":
    case "workflow_run": {
      // One CI round per commit, whichever event (a check suite, a workflow run; several
      // suites of one commit) reports the failure first.
      const headSha = payload.check_suite?.head_sha ?? payload.workflow_run?.head_sha;
      return headSha && payload.repository ? `ci-failure:${payload.repository.id}:${headSha}` : null;
    }
    default:
      // The check run's Retry button needs none: a retry gives the job a new check run, so
      // the same press replayed finds no job. Other events start nothing.
      return null;
  }
}
