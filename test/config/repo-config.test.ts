import { describe, expect, it } from "vitest";
import { applyCommandOverrides, parseRepoConfig } from "../../src/config/repo-config.ts";
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
