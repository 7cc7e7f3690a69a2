import { describe, expect, it } from "vitest";
import { filesOf, renderProposal } from "../../../src/github/host/propose-patch.ts";

const PATCH = [
  "diff --git a/greet.js b/greet.js",
  "new file mode 100644",
  "--- /dev/null",
  "+++ b/greet.js",
  "@@ -0,0 +1 @@",
  "+exports.greet = (name) => `Hello, ${name}!`; // ```` four backticks",
  "diff --git a/old name.txt b/new name.txt",
  "similarity index 100%",
  "",
].join("\n");

describe("a patch proposed for a fork", () => {
  it("names each changed file once, renames by their new name", () => {
    expect(filesOf(PATCH)).toEqual(["greet.js", "new name.txt"]);
    expect(filesOf("")).toEqual([]);
  });

  it("fences the patch so that no backticks inside can close it, and says how to apply it", () => {
    const body = renderProposal({ patch: PATCH, files: filesOf(PATCH), summary: "Added greet().", branch: "someone/repo:feature", baseSha: "f".repeat(40), requester: "octocat" });
    expect(body).toContain("`````diff\n");
    expect(body).toContain("git apply agent.patch");
    expect(body).toContain("`someone/repo:feature` (at `fffffff`)");
    expect(body).toContain("2 file(s) changed");
    expect(body).not.toContain("too long");
  });

  it("says so when the patch is too long for a comment, and stays under GitHub's limit", () => {
    const huge = `diff --git a/big.txt b/big.txt\n${"+x\n".repeat(40_000)}`;
    const body = renderProposal({ patch: huge, files: ["big.txt"], summary: "", branch: "a:b", baseSha: "a".repeat(40), requester: "octocat" });
    expect(body).toContain("too long for a comment");
    expect(body.length).toBeLessThan(65_536);
  });
});
