/**
 * The repositories the caller may see and where they may write (`GET /api/repositories`).
 * A server without that endpoint (an older version) answers 404: then the token's holder,
 * an operator, is taken to write everywhere, and the API still refuses what it must.
 */
import { onAuthChange, optionalApi } from "./api.js";

/** @typedef {import("./types.js").Repository} Repository */

/** `owner/name`, as the API takes a repository. */
export const REPOSITORY_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** @type {Promise<Repository[] | null> | null} */
let loading = null;

onAuthChange(() => {
  loading = null;
});

/**
 * The caller's repositories, or null when the server cannot say; read once per sign-in.
 * @returns {Promise<Repository[] | null>}
 */
export function repositories() {
  loading ??= optionalApi("/api/repositories").then(
    (answer) => (Array.isArray(answer?.repositories) ? answer.repositories : null),
    (error) => {
      loading = null;
      throw error;
    },
  );
  return loading;
}

/**
 * Whether the caller may start, cancel or retry work on `repository`.
 * @param {Repository[] | null} known what `repositories()` gave
 * @param {string} repository owner/name
 */
export function canWrite(known, repository) {
  if (known === null) return true;
  const lower = repository.toLowerCase();
  return known.some((entry) => entry.repository.toLowerCase() === lower && entry.can_write);
}
