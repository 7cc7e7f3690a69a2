import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRoleLookup, decideAuthorization, writeAccessOf } from "../../src/github/authorize-sender.ts";
import { nockRole } from "../support/github-api.ts";
import { testRepo } from "../support/github-fixtures.ts";
import { TestOctokit } from "../support/probot.ts";

describe("decideAuthorization", () => {
  it.each(["admin", "maintain", "write"])("lets a %s start work", (role) => {
    expect(decideAuthorization({ login: "ada", type: "User" }, role)).toEqual({ allowed: true });
  });

  it.each(["triage", "read", null])("refuses role %s", (role) => {
    expect(decideAuthorization({ login: "ada", type: "User" }, role)).toEqual({ allowed: false, reason: "no_write_access", roleName: role });
  });

  it("refuses bots whatever their role", () => {
    expect(decideAuthorization({ login: "dependabot[bot]", type: "Bot" }, "admin")).toEqual({ allowed: false, reason: "bot" });
    expect(decideAuthorization({ login: "running-agent[bot]", type: "User" }, "write")).toEqual({ allowed: false, reason: "bot" });
  });
});

const repo = testRepo();
const octokit = new TestOctokit({ auth: "token test" });
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("createRoleLookup", () => {

  it("uses role_name, so maintain is maintain and triage is not write", async () => {
    nockRole(repo, "m", "maintain");
    nockRole(repo, "t", "triage");
    const lookUp = createRoleLookup();
    expect(await lookUp(octokit, repo.owner, repo.name, "m")).toBe("maintain");
    expect(await lookUp(octokit, repo.owner, repo.name, "t")).toBe("triage");
  });

  it("treats a non-collaborator (404) as no role", async () => {
    nockRole(repo, "stranger", null);
    expect(await createRoleLookup()(octokit, repo.owner, repo.name, "stranger")).toBeNull();
  });

  it("keeps at most maxEntries people, forgetting the least recently asked about first", async () => {
    const lookUp = createRoleLookup({ maxEntries: 2 });
    nockRole(repo, "ada", "write");
    nockRole(repo, "bob", "read");
    await lookUp(octokit, repo.owner, repo.name, "ada");
    await lookUp(octokit, repo.owner, repo.name, "bob");
    // ada is asked about again (from the cache), so bob is now the least recent…
    expect(await lookUp(octokit, repo.owner, repo.name, "ada")).toBe("write");
    nockRole(repo, "cy", "read");
    await lookUp(octokit, repo.owner, repo.name, "cy");
    // …and the one that made room for cy; ada is still cached.
    expect(await lookUp(octokit, repo.owner, repo.name, "ada")).toBe("write");
    nockRole(repo, "bob", "read");
    expect(await lookUp(octokit, repo.owner, repo.name, "bob")).toBe("read");
  });

  it("stays bounded when a crowd of outsiders comments", async () => {
    const lookUp = createRoleLookup({ maxEntries: 10 });
    const outsiders = Array.from({ length: 50 }, (_, index) => `outsider-${index}`);
    nock("https://api.github.com").get(/\/collaborators\/outsider-\d+\/permission$/).times(outsiders.length).reply(404, { message: "Not Found" });
    for (const login of outsiders) await lookUp(octokit, repo.owner, repo.name, login);
    // The first outsiders were forgotten: asking again goes to GitHub, the last ten do not.
    nockRole(repo, "outsider-0", null);
    expect(await lookUp(octokit, repo.owner, repo.name, "outsider-0")).toBeNull();
    for (const login of outsiders.slice(-9)) expect(await lookUp(octokit, repo.owner, repo.name, login)).toBeNull();
  });

  it("caches briefly, then asks again", async () => {
    let now = 0;
    const lookUp = createRoleLookup({ ttlMs: 60_000, now: () => now });
    nockRole(repo, "ada", "write");
    await lookUp(octokit, repo.owner, repo.name, "ada");
    now = 59_000;
    expect(await lookUp(octokit, repo.owner, repo.name, "Ada")).toBe("write");
    now = 61_000;
    nockRole(repo, "ada", "read");
    expect(await lookUp(octokit, repo.owner, repo.name, "ada")).toBe("read");
  });
});

describe("writeAccessOf", () => {

  it("asks once per person however often, and however their login is cased, even when the shared cache has forgotten them", async () => {
    nockRole(repo, "ada", "write");
    nockRole(repo, "bob", "read");
    const mayWrite = writeAccessOf(octokit, repo.owner, repo.name, createRoleLookup({ ttlMs: 0 }));
    const answers = await Promise.all([mayWrite({ login: "ada", type: "User" }), mayWrite({ login: "Ada", type: "User" }), mayWrite({ login: "bob", type: "User" })]);
    expect(answers).toEqual([true, true, false]);
    expect(await mayWrite({ login: "ADA", type: "User" })).toBe(true);
  });

  it("says no for a bot without asking GitHub", async () => {
    expect(await writeAccessOf(octokit, repo.owner, repo.name, createRoleLookup())({ login: "helper[bot]", type: "Bot" })).toBe(false);
  });
});
