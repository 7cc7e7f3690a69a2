import type { PersonRepository, SignInGitHub } from "../api/sign-in-github.ts";

export interface SignInGitHubOptions {
  /** The GitHub App's OAuth client id and secret (its settings page, or the manifest flow's .env). */
  clientId: string;
  clientSecret: string;
  /** Where people sign in: https://github.com, or the GitHub Enterprise host. */
  webUrl: string;
  /** GitHub's REST API: https://api.github.com, or `<host>/api/v3`. */
  apiUrl: string;
  /** Each call's time limit. */
  timeoutMs?: number;
}

/** Pages of installations and repositories read at most: 100 each, enough for anyone's sign-in. */
const MAX_PAGES = 10;

/**
 * Signing people in with the GitHub App's own OAuth flow: their user-to-server token can
 * only see what both they and the app can (the installations of this app they can reach),
 * which is exactly what the dashboard may show them.
 */
export function createSignInGitHub(options: SignInGitHubOptions): SignInGitHub {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const api = async (token: string, path: string): Promise<Response> =>
    fetch(`${options.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", "user-agent": "running-agent" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  const json = async <T>(response: Response, what: string): Promise<T> => {
    if (!response.ok) throw new Error(`GitHub answered ${response.status} to ${what}`);
    return (await response.json()) as T;
  };
  return {
    authorizeUrl(state, redirectUri) {
      const url = new URL("/login/oauth/authorize", options.webUrl);
      url.search = new URLSearchParams({ client_id: options.clientId, redirect_uri: redirectUri, state, allow_signup: "false" }).toString();
      return url.toString();
    },
    async exchangeCode(code, redirectUri) {
      const response = await fetch(new URL("/login/oauth/access_token", options.webUrl), {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/json", "user-agent": "running-agent" },
        body: JSON.stringify({ client_id: options.clientId, client_secret: options.clientSecret, code, redirect_uri: redirectUri }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // GitHub answers 200 with `error` (bad_verification_code, …) for a code it refuses.
      const body = await json<{ access_token?: string; expires_in?: number; error?: string }>(response, "the sign-in code");
      if (!body.access_token) return null;
      return { token: body.access_token, expiresAt: typeof body.expires_in === "number" ? new Date(Date.now() + body.expires_in * 1_000) : null };
    },
    async userOf(token) {
      const user = await json<{ login: string; id: number }>(await api(token, "/user"), "GET /user");
      return { login: user.login, id: user.id };
    },
    async repositoriesOf(token) {
      const installations: Array<{ id: number }> = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const response = await api(token, `/user/installations?per_page=100&page=${page}`);
        if (response.status === 401) return null;
        const body = await json<{ installations: Array<{ id: number }> }>(response, "GET /user/installations");
        installations.push(...body.installations);
        if (body.installations.length < 100) break;
      }
      const repositories: PersonRepository[] = [];
      for (const installation of installations) {
        for (let page = 1; page <= MAX_PAGES; page++) {
          const response = await api(token, `/user/installations/${installation.id}/repositories?per_page=100&page=${page}`);
          if (response.status === 401) return null;
          const body = await json<{ repositories: Array<{ id: number; full_name: string; default_branch: string; permissions?: { push?: boolean; maintain?: boolean; admin?: boolean } }> }>(
            response,
            "GET /user/installations/:id/repositories",
          );
          for (const repository of body.repositories) {
            const permissions = repository.permissions ?? {};
            repositories.push({ id: repository.id, fullName: repository.full_name, defaultBranch: repository.default_branch, canWrite: Boolean(permissions.push || permissions.maintain || permissions.admin) });
          }
          if (body.repositories.length < 100) break;
        }
      }
      return repositories;
    },
  };
}
