/**
 * GitHub's side of signing in with a GitHub App, over real HTTP, for browser tests: the
 * authorize page (which "the person" approves at once, coming back to the app's callback
 * with a code and the state), the code-for-token exchange, and what a user-to-server token
 * may read (`/user`, the app's installations the person can reach and their repositories,
 * with the person's permissions). The API lives under `/api/v3`, as on GitHub Enterprise.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakePerson {
  login: string;
  id: number;
  /** What they can read through the app's installation, and whether they may push. */
  repositories: Array<{ id: number; fullName: string; defaultBranch?: string; canWrite: boolean }>;
}

export interface FakeGitHubSignIn {
  /** The web host (`/login/oauth/…`). */
  webUrl: string;
  /** The REST API (`/api/v3`). */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** Who approves the next sign-in on the authorize page. */
  signInAs(login: string): void;
  /** Requests so far, as `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

export const FAKE_INSTALLATION_ID = 4242;

export async function startFakeGitHubSignIn(people: readonly FakePerson[]): Promise<FakeGitHubSignIn> {
  const clientId = "Iv1.fakeclient";
  const clientSecret = "fake-client-secret";
  const codes = new Map<string, { login: string; redirectUri: string }>();
  const tokens = new Map<string, string>();
  const requests: string[] = [];
  let next: string | null = null;

  const send = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const personOf = (req: IncomingMessage): FakePerson | null => {
    const token = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const login = token ? tokens.get(token) : undefined;
    return people.find((person) => person.login === login) ?? null;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    requests.push(`${req.method} ${url.pathname}`);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
        const redirectUri = url.searchParams.get("redirect_uri") ?? "";
        if (url.searchParams.get("client_id") !== clientId || !next) return send(res, 400, { error: "unknown client, or nobody to sign in" });
        const code = randomBytes(10).toString("hex");
        codes.set(code, { login: next, redirectUri });
        const back = new URL(redirectUri);
        back.searchParams.set("code", code);
        back.searchParams.set("state", url.searchParams.get("state") ?? "");
        return res.writeHead(302, { location: back.toString() }).end();
      }
      if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, string>;
        const issued = codes.get(body.code ?? "");
        codes.delete(body.code ?? "");
        if (body.client_id !== clientId || body.client_secret !== clientSecret || !issued || issued.redirectUri !== body.redirect_uri) return send(res, 200, { error: "bad_verification_code" });
        const token = `ghu_${randomBytes(16).toString("hex")}`;
        tokens.set(token, issued.login);
        return send(res, 200, { access_token: token, token_type: "bearer", expires_in: 28_800 });
      }
      const person = personOf(req);
      if (!person) return send(res, 401, { message: "Bad credentials" });
      if (url.pathname === "/api/v3/user") return send(res, 200, { login: person.login, id: person.id });
      if (url.pathname === "/api/v3/user/installations") return send(res, 200, { total_count: 1, installations: url.searchParams.get("page") === "1" ? [{ id: FAKE_INSTALLATION_ID }] : [] });
      if (url.pathname === `/api/v3/user/installations/${FAKE_INSTALLATION_ID}/repositories`) {
        const page = url.searchParams.get("page") === "1" ? person.repositories : [];
        return send(res, 200, {
          total_count: person.repositories.length,
          repositories: page.map((repository) => ({ id: repository.id, full_name: repository.fullName, default_branch: repository.defaultBranch ?? "main", permissions: { pull: true, push: repository.canWrite, admin: false } })),
        });
      }
      send(res, 404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    webUrl: base,
    apiUrl: `${base}/api/v3`,
    clientId,
    clientSecret,
    signInAs: (login) => void (next = login),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
