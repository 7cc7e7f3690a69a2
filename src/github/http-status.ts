/** The HTTP status of a failed Octokit call (or anything carrying one); undefined for a network error. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") return error.status;
  return undefined;
}
