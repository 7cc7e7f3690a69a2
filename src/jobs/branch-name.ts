/**
 * The branch the agent works on for an issue: `agent/<issue>-<slug>`. The slug uses only
 * [a-z0-9-], which no rule of `git check-ref-format` can object to, so there is no need to
 * chase its corner cases (`..`, `@{`, `.lock`, trailing dots) one by one.
 */

const BRANCH_PREFIX = "agent/";
const MAX_SLUG_LENGTH = 40;

// Letters that Unicode decomposition does not turn into ASCII base letters.
const TRANSLITERATIONS: Record<string, string> = {
  ß: "ss",
  æ: "ae",
  œ: "oe",
  ø: "o",
  ł: "l",
  đ: "d",
  ð: "d",
  þ: "th",
  ı: "i",
};

/** `agent/<n>-<slug>` from the issue's title, or `agent/<n>` when the title has no usable letters. */
export function agentBranchName(issueNumber: number, title: string): string {
  if (!Number.isSafeInteger(issueNumber) || issueNumber < 1) {
    throw new RangeError(`An issue number is a positive integer, got ${issueNumber}`);
  }
  const slug = slugifyTitle(title);
  return slug === "" ? `${BRANCH_PREFIX}${issueNumber}` : `${BRANCH_PREFIX}${issueNumber}-${slug}`;
}

/**
 * `agent/task-<job>-<slug>` for a task asked through the API without an issue: the job's
 * id keeps two such tasks with the same words from pushing to one branch.
 */
export function agentTaskBranchName(jobId: string, task: string): string {
  const slug = slugifyTitle(task.split("\n")[0] ?? "");
  const id = jobId.slice(0, 8);
  return slug === "" ? `${BRANCH_PREFIX}task-${id}` : `${BRANCH_PREFIX}task-${id}-${slug}`;
}

/** Lowercase ASCII words joined by `-`, at most 40 characters, cut between words. */
export function slugifyTitle(title: string): string {
  const ascii = title
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^ -~]/g, (letter) => TRANSLITERATIONS[letter] ?? " ");
  const words = ascii.split(/[^a-z0-9]+/).filter((word) => word !== "");
  let slug = "";
  for (const word of words) {
    const next = slug === "" ? word : `${slug}-${word}`;
    if (next.length > MAX_SLUG_LENGTH) break;
    slug = next;
  }
  // One word longer than the limit (a URL, a hash) is cut rather than dropped.
  if (slug === "" && words.length > 0) slug = words[0].slice(0, MAX_SLUG_LENGTH);
  return slug;
}
