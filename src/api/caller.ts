import type { IncomingMessage } from "node:http";
import { BadRequest, hasValidBearer } from "./http.ts";
import type { CookieSealer, Session } from "./session.ts";
import type { PersonRepository, SignInGitHub } from "./sign-in-github.ts";

/**
 * Who is asking, and what they may see and do. A machine holds the API token: it sees and
 * may do everything, as before. A person signed in with GitHub sees the jobs and runs of the
 * repositories the app is installed on that they can read, and may start, cancel and retry
 * work only where they have write access, which is asked of GitHub as for a `/agent` comment.
 */
export type Caller = MachineCaller | PersonCaller;

export interface MachineCaller {
  kind: "machine";
}

export interface PersonCaller {
  kind: "person";
  session: Session;
  /** The repositories they can read, by id (cached briefly; asked of GitHub with their token). */
  repositories(): Promise<ReadonlyMap<number, PersonRepository>>;
}

export interface CallerDeps {
  apiToken: string | undefined;
  /** Null where sign-in is not configured: only the token is accepted. */
  sealer: CookieSealer | null;
  github: SignInGitHub | null;
  /** How long what a person can read is remembered: a revoked access takes effect within it. */
  accessTtlMs?: number;
  now?: () => number;
}

/** At most this many people's repository lists are remembered by one process. */
const MAX_REMEMBERED_PEOPLE = 1_000;

/** Resolves a request to its caller: the bearer token first, then the session cookie; null for neither. */
export function createCallerResolver(deps: CallerDeps) {
  const ttlMs = deps.accessTtlMs ?? 60_000;
  const now = deps.now ?? Date.now;
  // By user id and token: signing in again (a new token) asks GitHub afresh.
  const remembered = new Map<string, { at: number; repositories: Promise<ReadonlyMap<number, PersonRepository>> }>();

  const repositoriesOf = (session: Session): Promise<ReadonlyMap<number, PersonRepository>> => {
    const key = `${session.id}:${session.token.slice(-12)}`;
    const known = remembered.get(key);
    if (known && now() - known.at < ttlMs) return known.repositories;
    const repositories = deps.github!.repositoriesOf(session.token).then(
      (list) => {
        if (list === null) throw new BadRequest(401, "your GitHub sign-in has expired or was revoked: sign in again");
        return new Map(list.map((repository) => [repository.id, repository]));
      },
      (error: unknown) => {
        throw new BadRequest(502, `GitHub could not be asked which repositories you can see (${error instanceof Error ? error.message : String(error)}); try again in a moment`);
      },
    );
    remembered.delete(key);
    remembered.set(key, { at: now(), repositories });
    // A failure is not remembered: the next request asks again.
    repositories.catch(() => remembered.get(key)?.repositories === repositories && remembered.delete(key));
    for (const oldest of remembered.keys()) {
      if (remembered.size <= MAX_REMEMBERED_PEOPLE) break;
      remembered.delete(oldest);
    }
    return repositories;
  };

  return function callerOf(req: IncomingMessage): Caller | null {
    if (hasValidBearer(req, deps.apiToken)) return { kind: "machine" };
    const session = deps.sealer?.openSession(req, now()) ?? null;
    if (!session || !deps.github) return null;
    return { kind: "person", session, repositories: () => repositoriesOf(session) };
  };
}

/** Whether the caller may read the repository's jobs and runs. */
export async function mayRead(caller: Caller, repoId: number): Promise<boolean> {
  return caller.kind === "machine" || (await caller.repositories()).has(repoId);
}

/** The repository ids a person can read; null for a machine (all of them). */
export async function readableRepoIds(caller: Caller): Promise<number[] | null> {
  return caller.kind === "machine" ? null : [...(await caller.repositories()).keys()];
}

/**
 * A BadRequest unless the caller may start, cancel or retry work on the repository: a
 * machine may; a person needs write access (404 where they cannot even read it, so that
 * a repository's jobs are not revealed to someone who cannot see it).
 */
export async function requireWrite(caller: Caller, repoId: number, what: string): Promise<void> {
  if (caller.kind === "machine") return;
  const repository = (await caller.repositories()).get(repoId);
  if (!repository) throw new BadRequest(404, `no ${what} with that id`);
  if (!repository.canWrite) throw new BadRequest(403, `you need write access to ${repository.fullName} for this`);
}

/** Who the work is for: the signed-in person, or what the machine said (`requester`, default "api"). */
export function requesterOf(caller: Caller, given: string): { login: string; id: number } {
  return caller.kind === "person" ? { login: caller.session.login, id: caller.session.id } : { login: given, id: 0 };
}

/** As requireWrite, for a repository named `owner/name` (starting work there): 422 where the person cannot read it. */
export async function requireWriteByName(caller: Caller, fullName: string): Promise<void> {
  if (caller.kind === "machine") return;
  const wanted = fullName.toLowerCase();
  const repository = [...(await caller.repositories()).values()].find((candidate) => candidate.fullName.toLowerCase() === wanted);
  if (!repository) throw new BadRequest(422, `the GitHub App is not installed on ${fullName}, or you cannot read it`);
  if (!repository.canWrite) throw new BadRequest(403, `you need write access to ${repository.fullName} for this`);
}

/** Whether the caller may read the repository named `owner/name` (stored pipelines are kept by name). */
export async function mayReadByName(caller: Caller, fullName: string): Promise<boolean> {
  if (caller.kind === "machine") return true;
  const wanted = fullName.toLowerCase();
  return [...(await caller.repositories()).values()].some((repository) => repository.fullName.toLowerCase() === wanted);
}
