import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../src/config/repo-config.ts";
import { applyCommandOverrides } from "../../src/verify/detect-project.ts";
import type { ProjectInfo } from "../../src/verify/detect-project.ts";

const detected: ProjectInfo = { language: "node", packageManager: "npm", install: ["npm", "ci"], test: ["npm", "run", "test"], build: null, lint: ["npm", "run", "lint"], typecheck: null };

describe("parseRepoConfig", () => {
  it("accepts command overrides as a command line or an argv array", () => {
    const result = parseRepoConfig("commands:\n  test: make check\n  build: [npm, run, build]\n  lint: false\n");
    expect(result).toEqual({ ok: true, config: { commands: { test: "make check", build: ["npm", "run", "build"], lint: false } } });
  });

  it("treats an empty file as no configuration", () => {
    expect(parseRepoConfig("")).toEqual({ ok: true, config: {} });
  });

  it("reports bad YAML with its line", () => {
    const result = parseRepoConfig("commands:\n  test: [unclosed\n  lint: x\n");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/^line \d+: /);
  });

  it("reports a YAML alias bomb as a problem, with the line of its first alias, instead of throwing", () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (const [index, name] of [..."bcdefghi"].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${"abcdefgh"[index]}`).join(", ")}]`);
    const result = parseRepoConfig(levels.join("\n"));
    expect(result).toEqual({ ok: false, errors: [expect.stringMatching(/^line 2: the file cannot be read: Excessive alias count.*at most 100 times/)] });
  });

  it("reports an alias without its anchor", () => {
    expect(parseRepoConfig("commands:\n  test: *nowhere\n")).toEqual({ ok: false, errors: [expect.stringMatching(/^line 2: the file cannot be read: Unresolved alias/)] });
  });

  it("accepts a few aliases", () => {
    expect(parseRepoConfig("x-test: &test make check\ncommands:\n  test: *test\n").ok).toBe(false);
    expect(parseRepoConfig("commands:\n  test: &test make check\n  lint: *test\n")).toEqual({ ok: true, config: { commands: { test: "make check", lint: "make check" } } });
  });

  it("lists the first twenty problems of a badly broken file", () => {
    // 29 keys repeated: 29 problems, more than a comment should list.
    const result = parseRepoConfig(`${Array.from({ length: 30 }, () => "commands: {}").join("\n")}\n`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(21);
    expect(result.errors.at(-1)).toBe("… and 9 more problems");
  });

  it("reports unknown keys and wrong types with the line they are on", () => {
    const result = parseRepoConfig("commands:\n  test: npm test\n  tset: npm test\nextra: 1\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.stringMatching(/^line 3: commands: .*tset/), expect.stringMatching(/^line 4: \(top level\): .*extra/)]);
    const wrongType = parseRepoConfig("commands:\n  test: 42\n");
    expect(!wrongType.ok && wrongType.errors[0]).toMatch(/^line 2: commands\.test: /);
  });
});

describe("applyCommandOverrides", () => {
  it("replaces, adds and turns off commands, leaving the rest as detected", () => {
    const project = applyCommandOverrides(detected, { commands: { test: "make check", build: ["npm", "run", "build"], lint: false } });
    expect(project).toEqual({ ...detected, test: ["sh", "-c", "make check"], build: ["npm", "run", "build"], lint: null });
  });
});
