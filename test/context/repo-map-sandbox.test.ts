import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapRepository } from "../../src/context/repo-map.ts";
import { JobError } from "../../src/job-error.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";

let rootDir: string;
let sandbox: Sandbox;

async function git(...args: string[]): Promise<void> {
  const result = await sandbox.exec(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", ...args]);
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
}

// Enough long paths that `git ls-files` prints more than the 1 MiB `exec` keeps of stdout.
const LONG_PATHS = 1600;
const longPath = (i: number) => `${Array.from({ length: 6 }, (_, level) => `level${level}-${"x".repeat(100)}`).join("/")}/generated-${i}.md`;

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), "repo-map-test-"));
  sandbox = await createLocalSandboxProvider({ rootDir }).create({ jobId: "repo-map", limits: { timeoutMs: 60_000, memoryMb: 0, cpuSeconds: 0 } });
  await git("init", "--quiet", "--initial-branch=main");
  await sandbox.writeFile("package.json", `{ "name": "shop" }\n`);
  await sandbox.writeFile("README.md", "# Shop\n");
  await sandbox.writeFile("src/billing/invoice.ts", "export function chargeInvoice() {}\nexport class InvoiceQueue {}\nfunction helper() {}\n");
  await sandbox.writeFile("src/util/strings.py", "def slugify(text):\n    return text\n");
  await sandbox.writeFile("src/docs/ünïcode name.md", "# Notes\n");
  await sandbox.writeFile("node_modules/left-pad/index.js", "module.exports = leftPad;\n");
  await sandbox.writeFile("data/big.json", `[${"1,".repeat(200_000)}1]\n`);
  // A Latin-1 source file: not UTF-8, so only byte lengths keep the files apart.
  const latin1 = await sandbox.exec(["/bin/sh", "-c", `printf 'int caf\\351(void) {\\n  return 0;\\n}\\nint parse_menu(char *s) {\\n' > src/menu.c`]);
  expect(latin1.exitCode).toBe(0);
  const long = join(sandbox.workdir, dirname(longPath(0)));
  await mkdir(long, { recursive: true });
  await Promise.all(Array.from({ length: LONG_PATHS }, (_, i) => writeFile(join(sandbox.workdir, longPath(i)), "# generated\n")));
  await git("add", "-A");
  await git("commit", "--quiet", "-m", "initial");
});

afterAll(async () => {
  await sandbox?.destroy();
  await rm(rootDir, { recursive: true, force: true });
});

describe("mapRepository", () => {
  it("maps a git checkout through the sandbox, reading only what it lists, and cleans up after itself", async () => {
    const tmp = join(dirname(sandbox.home), "tmp");
    const before = await readdir(tmp);
    const map = await mapRepository(sandbox, { maxTokens: 600, focus: ["Charge the invoice twice", "menu"] });

    const total = 8 + LONG_PATHS;
    expect(map.filesTotal).toBe(total);
    expect(map.text.split("\n").slice(1, 3)).toEqual(["README.md", "package.json"]);
    expect(map.text).toContain("\nsrc/\n");
    // Found after the Latin-1 byte: the files were told apart by byte length, not by decoding.
    expect(map.text).toContain("\n  menu.c: fn parse_menu\n");
    expect(map.text).toContain("\n  billing/\n    invoice.ts: fn chargeInvoice; class InvoiceQueue\n");
    expect(map.text).toContain("… and 2 more files not mapped (vendored or build output: 1, over 256 KiB: 1)\n");
    expect(map.truncated).toBe(true);
    expect(map.tokens).toBeLessThanOrEqual(600);
    const more = [...map.text.matchAll(/… and (\d+) more files? in /g)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(map.filesListed + more + 2).toBe(total);
    expect(await readdir(tmp)).toEqual(before);
  });

  it("lists every file, with unusual names, when the budget allows", async () => {
    const map = await mapRepository(sandbox, { maxTokens: 200_000 });
    expect(map.filesListed).toBe(6 + LONG_PATHS);
    expect(map.truncated).toBe(false);
    expect(map.text).toContain("ünïcode name.md\n");
    expect(map.text).toContain("strings.py: fn slugify\n");
  });

  it("fails with a sandbox error outside a git checkout", async () => {
    const outside = await createLocalSandboxProvider({ rootDir }).create({ jobId: "not-git", limits: { timeoutMs: 60_000, memoryMb: 0, cpuSeconds: 0 } });
    try {
      const failure = await mapRepository(outside, { maxTokens: 100 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(JobError);
      expect((failure as JobError).message).toMatch(/Listing the repository's files for its map failed .*not a git repository/);
      expect(await readdir(join(dirname(outside.home), "tmp"))).toEqual([]);
    } finally {
      await outside.destroy();
    }
  });
});
