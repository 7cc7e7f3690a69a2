import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHostGit } from "../../src/sandbox/host-git.ts";

let gitDir: string;
let blob: string;

beforeAll(async () => {
  gitDir = join(await mkdtemp(join(tmpdir(), "host-git-test-")), "repo.git");
  execFileSync("git", ["init", "--quiet", "--bare", gitDir]);
  blob = execFileSync("git", ["--git-dir", gitDir, "hash-object", "-w", "--stdin"], { input: "x".repeat(10_000), encoding: "utf8" }).trim();
});

afterAll(async () => {
  await rm(join(gitDir, ".."), { recursive: true, force: true });
});

describe("readHostGit", () => {
  it("gives git's whole output as bytes, however long", async () => {
    const output = await readHostGit(["--git-dir", gitDir, "cat-file", "blob", blob], { what: "reading a blob", maxBytes: 1_000_000 });
    expect(output.length).toBe(10_000);
  });

  it("refuses output past its bound rather than holding it, saying what it was doing", async () => {
    await expect(readHostGit(["--git-dir", gitDir, "cat-file", "blob", blob], { what: "reading a blob", maxBytes: 1_000 })).rejects.toThrow(/^reading a blob failed: .*maxBuffer/);
  });

  it("fails with git's own words", async () => {
    await expect(readHostGit(["--git-dir", gitDir, "cat-file", "blob", "0".repeat(40)], { what: "reading a blob", maxBytes: 1_000 })).rejects.toThrow(/^reading a blob failed: fatal: /);
  });
});
