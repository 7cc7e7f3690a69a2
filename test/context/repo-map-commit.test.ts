import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapCommit } from "../../src/context/repo-map.ts";
import { JobError } from "../../src/job-error.ts";

let rootDir: string;
let checkout: string;
let gitDir: string;
let commit: string;

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], { cwd: checkout, encoding: "utf8" }).trim();
}

async function write(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(checkout, path)), { recursive: true });
  await writeFile(join(checkout, path), content);
}

// Enough long paths that the listing is more than the 1 MiB a sandbox `exec` or `runHostGit` keeps of stdout.
const LONG_PATHS = 1600;
const longPath = (i: number) => `${Array.from({ length: 6 }, (_, level) => `level${level}-${"x".repeat(100)}`).join("/")}/generated-${i}.md`;

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), "repo-map-test-"));
  checkout = join(rootDir, "checkout");
  await mkdir(checkout);
  git("init", "--quiet", "--initial-branch=main");
  await write("package.json", `{ "name": "shop" }\n`);
  await write("README.md", "# Shop\n");
  await write("src/billing/invoice.ts", "export function chargeInvoice() {}\nexport class InvoiceQueue {}\nfunction helper() {}\n");
  await write("src/util/strings.py", "def slugify(text):\n    return text\n");
  await write("src/docs/ünïcode name.md", "# Notes\n");
  await write("node_modules/left-pad/index.js", "module.exports = leftPad;\n");
  await write("data/big.json", `[${"1,".repeat(200_000)}1]\n`);
  // A Latin-1 source file: not UTF-8, so only byte lengths keep the files apart.
  await write("src/menu.c", Buffer.from("int caf\xe9(void) {\n  return 0;\n}\nint parse_menu(char *s) {\n", "latin1"));
  await Promise.all(Array.from({ length: LONG_PATHS }, (_, i) => write(longPath(i), "# generated\n")));
  git("add", "-A");
  git("commit", "--quiet", "-m", "initial");
  // A submodule is a commit in the tree, not a file.
  git("update-index", "--add", "--cacheinfo", `160000,${"a".repeat(40)},vendor/submodule`);
  git("commit", "--quiet", "-m", "submodule");
  commit = git("rev-parse", "HEAD");
  gitDir = join(checkout, ".git");
  // What the agent does to the workspace later is not the commit's: the map is of the commit.
  await write("src/billing/written-later.ts", "export function notInTheCommit() {}\n");
});

afterAll(async () => {
  await rm(rootDir, { recursive: true, force: true });
});

describe("mapCommit", () => {
  it("maps a commit of a repository on this host, reading only what it lists", async () => {
    const map = await mapCommit(gitDir, commit, { maxTokens: 600, focus: ["Charge the invoice twice", "menu"] });

    const total = 8 + LONG_PATHS;
    expect(map.filesTotal).toBe(total);
    expect(map.text.split("\n").slice(1, 3)).toEqual(["README.md", "package.json"]);
    expect(map.text).toContain("\nsrc/\n");
    // Found after the Latin-1 byte: the files were told apart by byte length, not by decoding.
    expect(map.text).toContain("\n  menu.c: fn parse_menu\n");
    expect(map.text).toContain("\n  billing/\n    invoice.ts: fn chargeInvoice; class InvoiceQueue\n");
    expect(map.text).toContain("… and 2 more files not mapped (vendored or build output: 1, over 256 KiB: 1)\n");
    expect(map.text).not.toContain("submodule");
    expect(map.text).not.toContain("written-later");
    expect(map.truncated).toBe(true);
    expect(map.tokens).toBeLessThanOrEqual(600);
    const more = [...map.text.matchAll(/… and (\d+) more files? in /g)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(map.filesListed + more + 2).toBe(total);
  });

  it("lists every file, with unusual names, when the budget allows", async () => {
    const map = await mapCommit(gitDir, commit, { maxTokens: 200_000 });
    expect(map.filesListed).toBe(6 + LONG_PATHS);
    expect(map.truncated).toBe(false);
    expect(map.text).toContain("ünïcode name.md\n");
    expect(map.text).toContain("strings.py: fn slugify\n");
  });

  it("reads a symlink the repository holds as its text, never the host file it points at (the map runs on the worker)", async () => {
    // On the worker's disk, outside any repository: what a hostile commit would like in its map.
    const secret = join(rootDir, "worker-secret.ts");
    await writeFile(secret, "export function workerSecretMarker() {}\n");
    await symlink(secret, join(checkout, "leak.ts"));
    await symlink("/etc/hostname", join(checkout, "hostname.ts"));
    git("add", "leak.ts", "hostname.ts");
    git("commit", "--quiet", "-m", "links");
    const linked = git("rev-parse", "HEAD");

    const map = await mapCommit(gitDir, linked, { maxTokens: 200_000, focus: ["leak secret"] });

    expect(map.text).toContain("leak.ts");
    expect(map.text).not.toContain("workerSecretMarker");
  });

  it("refuses what is not a commit id before running git", async () => {
    const failure = await mapCommit(gitDir, "--output=/tmp/owned", { maxTokens: 100 }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ kind: "clone", message: expect.stringContaining("not a commit id") });
  });

  it("fails with a retryable error naming what failed when the commit is not there", async () => {
    const failure = await mapCommit(gitDir, "b".repeat(40), { maxTokens: 100 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobError);
    expect(failure).toMatchObject({ kind: "clone", retryable: true });
    expect((failure as JobError).message).toMatch(/Mapping the repository failed: listing the repository's files for its map failed: .*not a tree object/);
  });
});
