import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSignInGitHub } from "../../src/github/sign-in.ts";
import { startFakeGitHubSignIn } from "../fakes/fake-github-sign-in.ts";

const github = createSignInGitHub({ clientId: "Iv1.client", clientSecret: "client-secret", webUrl: "https://github.com", apiUrl: "https://api.github.com" });

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  nock.enableNetConnect();
  expect(pending).toEqual([]);
});

describe("the GitHub App's OAuth flow", () => {
  it("sends people to GitHub's authorize page with the app's client id, the callback and the state", () => {
    const url = new URL(github.authorizeUrl("the-state", "https://agent.example.com/auth/github/callback"));
    expect(url.origin + url.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: "Iv1.client", redirect_uri: "https://agent.example.com/auth/github/callback", state: "the-state", allow_signup: "false" });
  });

  it("trades a code for the person's token, and tells a refused code apart", async () => {
    nock("https://github.com")
      .post("/login/oauth/access_token", { client_id: "Iv1.client", client_secret: "client-secret", code: "good", redirect_uri: "https://a/cb" })
      .reply(200, { access_token: "ghu_token", expires_in: 28_800, token_type: "bearer" })
      .post("/login/oauth/access_token", (body: Record<string, string>) => body.code === "used")
      .reply(200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
    const before = Date.now();
    const token = await github.exchangeCode("good", "https://a/cb");
    expect(token?.token).toBe("ghu_token");
    expect(token!.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 28_800_000);
    expect(await github.exchangeCode("used", "https://a/cb")).toBeNull();
  });

  it("reads the repositories the person can see through the app's installations, page by page, with their write access", async () => {
    const auth = { reqheaders: { authorization: "Bearer ghu_token" } };
    const repository = (id: number, permissions: Record<string, boolean>) => ({ id, full_name: `octo-org/r${id}`, default_branch: "main", permissions });
    nock("https://api.github.com", auth)
      .get("/user/installations")
      .query({ per_page: "100", page: "1" })
      .reply(200, { installations: [{ id: 1 }, { id: 2 }] })
      .get("/user/installations/1/repositories")
      .query({ per_page: "100", page: "1" })
      .reply(200, { repositories: Array.from({ length: 100 }, (_, index) => repository(index + 1, { pull: true, push: false })) })
      .get("/user/installations/1/repositories")
      .query({ per_page: "100", page: "2" })
      .reply(200, { repositories: [repository(101, { pull: true, push: true })] })
      .get("/user/installations/2/repositories")
      .query({ per_page: "100", page: "1" })
      .reply(200, { repositories: [repository(201, { pull: true, push: false, maintain: true })] });
    const repositories = (await github.repositoriesOf("ghu_token"))!;
    expect(repositories).toHaveLength(102);
    expect(repositories.filter((entry) => entry.canWrite).map((entry) => entry.fullName)).toEqual(["octo-org/r101", "octo-org/r201"]);
  });

  it("says a token GitHub refuses is no longer good, and fails on anything else", async () => {
    nock("https://api.github.com").get("/user/installations").query(true).reply(401, { message: "Bad credentials" });
    expect(await github.repositoriesOf("ghu_revoked")).toBeNull();
    nock("https://api.github.com").get("/user/installations").query(true).reply(502, "Bad Gateway");
    await expect(github.repositoriesOf("ghu_token")).rejects.toThrow("GitHub answered 502");
  });
});

describe("against the fake GitHub the browser tests sign in with", () => {
  it("goes through the whole flow: authorize, exchange (once), the person, their repositories", async () => {
    nock.enableNetConnect("127.0.0.1");
    const fake = await startFakeGitHubSignIn([{ login: "ana", id: 7, repositories: [{ id: 1, fullName: "octo-org/a", canWrite: true }, { id: 2, fullName: "octo-org/b", canWrite: false }] }]);
    try {
      const client = createSignInGitHub({ clientId: fake.clientId, clientSecret: fake.clientSecret, webUrl: fake.webUrl, apiUrl: fake.apiUrl });
      fake.signInAs("ana");
      const authorized = await fetch(client.authorizeUrl("st", "http://app.test/auth/github/callback"), { redirect: "manual" });
      const back = new URL(authorized.headers.get("location")!);
      expect(back.searchParams.get("state")).toBe("st");
      const token = await client.exchangeCode(back.searchParams.get("code")!, "http://app.test/auth/github/callback");
      expect(await client.exchangeCode(back.searchParams.get("code")!, "http://app.test/auth/github/callback")).toBeNull();
      expect(await client.userOf(token!.token)).toEqual({ login: "ana", id: 7 });
      expect(await client.repositoriesOf(token!.token)).toEqual([
        { id: 1, fullName: "octo-org/a", defaultBranch: "main", canWrite: true },
        { id: 2, fullName: "octo-org/b", defaultBranch: "main", canWrite: false },
      ]);
      expect(await client.repositoriesOf("ghu_unknown")).toBeNull();
    } finally {
      await fake.close();
    }
  });
});
