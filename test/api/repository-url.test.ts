import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRepositoryUrl } from "../../src/api/repository-url.ts";

describe("parseRepositoryUrl", () => {
  it("reads every form GitHub shows a repository's URL in", () => {
    for (const url of [
      "https://github.com/octo-org/hello-world",
      "https://github.com/octo-org/hello-world.git",
      "https://github.com/octo-org/hello-world/",
      "  https://GitHub.com/octo-org/hello-world  ",
      "http://github.com/octo-org/hello-world",
      "https://www.github.com/octo-org/hello-world",
      "git@github.com:octo-org/hello-world.git",
      "github.com:octo-org/hello-world",
      "ssh://git@github.com/octo-org/hello-world.git",
      "git://github.com/octo-org/hello-world.git",
      "github.com/octo-org/hello-world",
    ]) {
      expect(parseRepositoryUrl(url, "github.com"), url).toEqual({ owner: "octo-org", name: "hello-world" });
    }
    expect(parseRepositoryUrl("https://github.example.com/a/b.c", "github.example.com")).toEqual({ owner: "a", name: "b.c" });
  });

  it("refuses credentials, other hosts and anything that is not one repository", () => {
    const cases: Array<[string, string]> = [
      ["https://x-access-token:ghp_secret@github.com/octo-org/hello-world", "credentials"],
      ["https://ghp_secret@github.com/octo-org/hello-world", "credentials"],
      ["ssh://me:pw@github.com/octo-org/hello-world", "credentials"],
      ["ghp_secret@github.com:octo-org/hello-world.git", "credentials"],
      ["https://gitlab.com/octo-org/hello-world", "host"],
      ["https://github.com.evil.example/octo-org/hello-world", "host"],
      ["https://evil.example/github.com/octo-org/hello-world", "host"],
      ["git@evil.example:octo-org/hello-world.git", "host"],
      ["https://github.com/octo-org", "form"],
      ["https://github.com/octo-org/hello-world/issues/1", "form"],
      ["https://github.com/octo-org/hello-world?tab=readme", "form"],
      ["https://github.com/../hello-world", "form"],
      ["https://github.com/octo-org/..", "form"],
      ["file:///etc/passwd", "form"],
      ["octo-org/hello-world", "host"],
      ["", "form"],
      ["not a url", "form"],
    ];
    for (const [url, problem] of cases) expect(parseRepositoryUrl(url, "github.com"), url).toEqual({ problem });
  });

  it("never throws, and names a repository only with a valid owner and name", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const parsed = parseRepositoryUrl(text, "github.com");
        if ("owner" in parsed) expect(`${parsed.owner}/${parsed.name}`).toMatch(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/);
      }),
    );
  });
});
