import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { detectProjectIn } from "../../src/verify/detect-project-in.ts";
import { createLocalRepository, type LocalRepository } from "../support/local-repo.ts";

let repo: LocalRepository | undefined;
afterEach(async () => {
  await repo?.cleanup();
  repo = undefined;
});

/** The two things detection asks of a sandbox, done on a checkout on this host. */
function checkoutSandbox(dir: string): Sandbox {
  return {
    workdir: dir,
    exec: async (argv: readonly string[]) => ({ exitCode: 0, stdout: execFileSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: "utf8" }), stderr: "", timedOut: false }),
    readFile: (file: string) => readFile(file, "utf8"),
  } as unknown as Sandbox;
}

describe("detecting the project in a checkout", () => {
  it("sees files that count by being there, not only those it reads: a Cargo.toml, a lockfile", async () => {
    repo = await createLocalRepository({ "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\nedition = "2021"\n', "src/lib.rs": "" });
    expect(await detectProjectIn(checkoutSandbox(repo.dir))).toMatchObject({ language: "rust", test: ["cargo", "test"] });

    await repo.cleanup();
    repo = await createLocalRepository({ "package.json": JSON.stringify({ scripts: { test: "node --test" } }), "package-lock.json": "{}" });
    expect(await detectProjectIn(checkoutSandbox(repo.dir))).toMatchObject({ language: "node", install: ["npm", "ci"] });
  });

  it("does not mistake a deeper file for a top-level marker", async () => {
    repo = await createLocalRepository({ "vendor/Cargo.toml": "[package]\n", "README.md": "hi\n" });
    expect(await detectProjectIn(checkoutSandbox(path.join(repo.dir)))).toMatchObject({ language: "unknown" });
  });
});
