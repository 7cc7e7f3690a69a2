import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { agentBranchName, agentTaskBranchName } from "../../src/jobs/branch-name.ts";

/** `git check-ref-format --branch` rules, written out independently of the implementation. */
function isValidBranchRef(name: string): boolean {
  if (name === "" || name === "@" || name.startsWith("-")) return false;
  if (name.endsWith("/") || name.endsWith(".")) return false;
  if (name.includes("..") || name.includes("@{") || name.includes("//")) return false;
  // eslint-disable-next-line no-control-regex -- git refuses control characters
  if (/[\x00-\x20\x7F~^:?*[\\]/.test(name)) return false;
  return name.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock"));
}

describe("agentBranchName", () => {
  it("builds agent/<n>-<slug> from the title", () => {
    expect(agentBranchName(42, "Fix the login redirect loop")).toBe("agent/42-fix-the-login-redirect-loop");
    expect(agentBranchName(7, "  Crash when   config is EMPTY!!  ")).toBe("agent/7-crash-when-config-is-empty");
  });

  it("transliterates accents and common letters, and drops other scripts", () => {
    expect(agentBranchName(1, "Crème brûlée für Straße, Øresund, Łódź")).toBe("agent/1-creme-brulee-fur-strasse-oresund-lodz");
    expect(agentBranchName(2, "日本語 support ✨")).toBe("agent/2-support");
    expect(agentBranchName(3, "ﬁx ＡＢＣ")).toBe("agent/3-fix-abc");
  });

  it("never leaves characters git refuses", () => {
    expect(agentBranchName(5, "Upgrade to v1.2.3 (see @{u} ~1 ^2 a..b x.lock)")).toBe("agent/5-upgrade-to-v1-2-3-see-u-1-2-a-b-x-lock");
    expect(agentBranchName(6, "config.lock")).toBe("agent/6-config-lock");
  });

  it("cuts long titles at a word boundary within 40 characters", () => {
    const name = agentBranchName(9, "Refactor the authentication middleware so that sessions expire correctly");
    expect(name).toBe("agent/9-refactor-the-authentication-middleware");
    expect(name.length - "agent/9-".length).toBeLessThanOrEqual(40);
  });

  it("cuts a single overlong word", () => {
    expect(agentBranchName(10, "a".repeat(100))).toBe(`agent/10-${"a".repeat(40)}`);
  });

  it("uses agent/<n> when nothing is left of the title", () => {
    expect(agentBranchName(11, "")).toBe("agent/11");
    expect(agentBranchName(12, "🚀🚀 ... ---")).toBe("agent/12");
  });

  it("rejects issue numbers that are not positive integers", () => {
    expect(() => agentBranchName(0, "x")).toThrow(RangeError);
    expect(() => agentBranchName(1.5, "x")).toThrow(RangeError);
    expect(() => agentBranchName(Number.NaN, "x")).toThrow(RangeError);
  });

  it("always gives a valid, short agent branch for any title", () => {
    const title = fc.oneof(fc.string({ unit: "binary", maxLength: 120 }), fc.string({ unit: "grapheme", maxLength: 120 }), fc.string({ maxLength: 120 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), title, (issue, text) => {
        const name = agentBranchName(issue, text);
        expect(isValidBranchRef(name)).toBe(true);
        expect(name).toMatch(new RegExp(`^agent/${issue}(-[a-z0-9]+(-[a-z0-9]+)*)?$`));
        expect(name.length).toBeLessThanOrEqual(`agent/${issue}-`.length + 40);
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps every ASCII word of a short title", () => {
    const word = fc.stringMatching(/^[a-z0-9]{1,6}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 5 }), (words) => {
        expect(agentBranchName(1, words.join(" ").toUpperCase())).toBe(`agent/1-${words.join("-")}`);
      }),
    );
  });
});

describe("agentTaskBranchName", () => {
  const id = "0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

  it("names a task without an issue after the job and the task's first line", () => {
    expect(agentTaskBranchName(id, "Fix the typo in README\n\nIt says 'teh'.")).toBe("agent/task-0f8e2c1a-fix-the-typo-in-readme");
    expect(agentTaskBranchName(id, "!!! 🚀 ???")).toBe("agent/task-0f8e2c1a");
  });

  it("is a valid branch name for any task", () => {
    fc.assert(fc.property(fc.uuid(), fc.string({ unit: "grapheme", maxLength: 300 }), (jobId, task) => isValidBranchRef(agentTaskBranchName(jobId, task))));
  });
});
