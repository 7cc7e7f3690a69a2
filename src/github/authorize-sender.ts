import type { ProbotOctokit } from "probot";
import { statusOf } from "./http-status.ts";

/** Roles (collaborator API `role_name`) that may start work. */
const WRITE_ROLES = new Set(["admin", "maintain", "write"]);

export type AuthorizationDecision =
  | { allowed: true }
  | { allowed: false; reason: "bot" }
  | { allowed: false; reason: "no_write_access"; roleName: string | null };

export interface Sender {
  login: string;
  type: string;
}

/** Pure: bots never start work; humans need write, maintain or admin. */
export function decideAuthorization(sender: Sender, roleName: string | null): AuthorizationDecision {
  if (isBot(sender)) return { allowed: false, reason: "bot" };
  if (roleName !== null && WRITE_ROLES.has(roleName)) return { allowed: true };
  return { allowed: false, reason: "no_write_access", roleName };
}

export function isBot(sender: Sender): boolean {
  return sender.type === "Bot" || sender.login.endsWith("[bot]");
}

/**
 * The sender's role on the repository, asked of GitHub and cached briefly: a burst of
 * commands should not cost a request each, and a revoked permission should take effect
 * within a minute. The cache holds at most `maxEntries` people (the least recently asked
 * about go first): anyone can comment, so its size is in outsiders' hands.
 */
export function createRoleLookup(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 1_000;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  const cache = new Map<string, { roleName: string | null; expiresAt: number }>();

  return async function lookUpRole(octokit: ProbotOctokit, owner: string, repo: string, login: string): Promise<string | null> {
    const key = `${owner}/${repo}/${login}`.toLowerCase();
    const cached = cache.get(key);
    cache.delete(key);
    if (cached && cached.expiresAt > now()) {
      cache.set(key, cached);
      return cached.roleName;
    }
    const roleName = await fetchRoleName(octokit, owner, repo, login);
    cache.delete(key);
    cache.set(key, { roleName, expiresAt: now() + ttlMs });
    for (const oldest of cache.keys()) {
      if (cache.size <= maxEntries) break;
      cache.delete(oldest);
    }
    return roleName;
  };
}

export type RoleLookup = ReturnType<typeof createRoleLookup>;

/**
 * Whether each person may write to the repository, asked once per person for as long as the
 * returned function lives (one job's reading of a thread), whatever the shared cache's lifetime.
 * A bot is not asked about: it never counts as a writer.
 */
export function writeAccessOf(octokit: ProbotOctokit, owner: string, repo: string, lookUpRole: RoleLookup): (person: Sender) => Promise<boolean> {
  const seen = new Map<string, Promise<boolean>>();
  return (person) => {
    if (isBot(person)) return Promise.resolve(false);
    const key = person.login.toLowerCase();
    const known = seen.get(key);
    if (known) return known;
    const pending = lookUpRole(octokit, owner, repo, person.login).then((role) => decideAuthorization(person, role).allowed);
    seen.set(key, pending);
    return pending;
  };
}

async function fetchRoleName(octokit: ProbotOctokit, owner: string, repo: string, username: string): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    // `permission` is legacy (maintain reads as write, triage as read); `role_name` is exact.
    return data.role_name ?? null;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}
