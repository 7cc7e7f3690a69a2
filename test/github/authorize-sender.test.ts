import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRoleLookup, decideAuthorization } from "../../src/github/authorize-sender.ts";
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

describe("createRoleLookup", () => {
  const repo = testRepo();
  const octokit = new TestOctokit({ auth: "token test" });
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

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
