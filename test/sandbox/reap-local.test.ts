import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { reapLocalSandboxes } from "../../src/sandbox/reap-local.ts";

const running = "11111111-1111-4111-8111-111111111111";
const finished = "22222222-2222-4222-8222-222222222222";
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "ra-reap-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("reapLocalSandboxes", () => {
  it("removes the sandboxes of jobs that are no longer running, and nothing else", async () => {
    for (const name of [`${running}-aaaa0000`, `${finished}-bbbb0000`, `${finished}-cccc0000`, "not-a-sandbox"]) await mkdir(path.join(root, name, "workspace"), { recursive: true });
    let asked: string[] = [];
    const reaped = await reapLocalSandboxes(root, async (ids) => {
      asked = ids;
      return new Set([running]);
    });
    expect(asked.sort()).toEqual([running, finished]);
    expect(reaped.sort()).toEqual([`${finished}-bbbb0000`, `${finished}-cccc0000`]);
    expect((await readdir(root)).sort()).toEqual([`${running}-aaaa0000`, "not-a-sandbox"]);
  });

  it("does nothing when the directory does not exist yet", async () => {
    expect(await reapLocalSandboxes(path.join(root, "missing"), async () => new Set())).toEqual([]);
  });
});
