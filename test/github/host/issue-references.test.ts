import { describe, expect, it } from "vitest";
import { referencedNumbers } from "../../../src/github/host/issue-references.ts";
import { expectLinearTime } from "../../support/linear-time.ts";

const place = { webOrigin: "https://github.com", owner: "octo-org", repo: "hello-world" };

describe("referencedNumbers", () => {
  it("finds #N and this repository's issue and pull request URLs, in order, once each", () => {
    const texts = ["Broken since #12 (see https://github.com/octo-org/hello-world/pull/9).", "Also #12 and https://github.com/Octo-Org/Hello-World/issues/3#issuecomment-1"];
    expect(referencedNumbers(texts, place, 7, 5)).toEqual([12, 9, 3]);
  });

  it("leaves out the issue itself, other repositories, entities, anchors and paths", () => {
    const text = "#7 https://github.com/other/repo/issues/4 &#39; page#5 /#6 https://github.com/octo-org/hello-world-2/issues/8 #0 #12abc";
    expect(referencedNumbers([text], place, 7, 5)).toEqual([]);
  });

  it("stops at the limit", () => {
    expect(referencedNumbers(["#1 #2 #3 #4"], place, 7, 2)).toEqual([1, 2]);
  });

  it("runs in linear time on text shaped against its patterns", () => {
    const run = (text: string) => referencedNumbers([text], place, 7, 5);
    expectLinearTime(run, (chars) => "#".repeat(chars));
    expectLinearTime(run, (chars) => "https://github.com/octo-org/hello-world/issues/".repeat(Math.ceil(chars / 47)));
  });
});
