import fc from "fast-check";
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../../src/config/repo-config.ts";
import { repositoryEgressOf } from "../../../src/config/sandbox-policy.ts";
import { readRepoConfig } from "../../../src/github/repo-config-file.ts";
import { GITHUB_API } from "../../support/github-api.ts";
import { TestOctokit } from "../../support/probot.ts";

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("egress a repository asks for", () => {
  it("is granted where an operator pattern covers it, and refused otherwise", () => {
    const patterns = ["*.jfrog.io", "registry.example.com"];
    const { granted, refused } = repositoryEgressOf(["acme.jfrog.io", "*.acme.jfrog.io", "registry.example.com", "evil.example.com", "jfrog.io.evil.net", "Acme.JFrog.io"], patterns);
    expect(granted).toEqual(["acme.jfrog.io", "*.acme.jfrog.io", "registry.example.com"]);
    expect(refused).toEqual(["evil.example.com", "jfrog.io.evil.net"]);
    expect(repositoryEgressOf(["anything.example.com"], [])).toEqual({ granted: [], refused: ["anything.example.com"] });
  });

  it("never grants a host outside the pattern's domain, whatever it is called", () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), fc.array(label, { minLength: 2, maxLength: 3 }), (hostLabels, domainLabels) => {
        const domain = domainLabels.join(".");
        const host = hostLabels.join(".");
        const { granted } = repositoryEgressOf([host], [`*.${domain}`]);
        for (const entry of granted) expect(entry.endsWith(`.${domain}`)).toBe(true);
      }),
    );
  });

  it("is declared in .github/agent.yml under sandbox.egress, host names only", () => {
    const ok = parseRepoConfig("sandbox:\n  egress:\n    - registry.example.com\n    - '*.jfrog.io'\n");
    expect(ok).toEqual({ ok: true, config: { sandbox: { egress: ["registry.example.com", "*.jfrog.io"] } } });
    const bad = parseRepoConfig("sandbox:\n  egress:\n    - https://registry.example.com/npm\n");
    expect(bad.ok).toBe(false);
    expect(bad.ok ? "" : bad.errors.join("\n")).toMatch(/line 3/);
  });

  it("reads the file at the job's commit through the API, or nothing when there is none", async () => {
    const octokit = new TestOctokit({ auth: "ghs_test" });
    nock(GITHUB_API)
      .get("/repos/o/r/contents/.github%2Fagent.yml")
      .query({ ref: "abc" })
      .reply(200, { type: "file", encoding: "base64", content: Buffer.from("sandbox:\n  egress: [a.example.com]\n").toString("base64") })
      .get("/repos/o/r/contents/.github%2Fagent.yml")
      .query({ ref: "def" })
      .reply(404, { message: "Not Found" });
    expect(await readRepoConfig(octokit, "o", "r", "abc")).toBe("sandbox:\n  egress: [a.example.com]\n");
    expect(await readRepoConfig(octokit, "o", "r", "def")).toBeNull();
  });
});
