import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OWNER_MARKER, PARKED_MARKER } from "../../src/sandbox/local-sandbox.ts";
import { reapLocalSandboxes, removeEarlierAttempts } from "../../src/sandbox/reap-local.ts";

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

describe("reapLocalSandboxes and parked sandboxes", () => {
  it("keeps a parked sandbox that a job still offers for a follow-up, and removes one nobody does", async () => {
    const offered = `${finished}-dddd0000`;
    const forgotten = `${finished}-eeee0000`;
    for (const name of [offered, forgotten]) {
      await mkdir(path.join(root, name, "workspace"), { recursive: true });
      await writeFile(path.join(root, name, PARKED_MARKER), new Date().toISOString());
    }
    let asked: string[] = [];
    const reaped = await reapLocalSandboxes(
      root,
      async () => new Set(),
      async (names) => {
        asked = names;
        return new Set([offered]);
      },
    );
    expect(asked.sort()).toEqual([offered, forgotten]);
    expect(reaped).toEqual([forgotten]);
    expect(await readdir(root)).toEqual([offered]);
  });
});

describe("reapLocalSandboxes and resumed sandboxes", () => {
  it("judges a resumed sandbox by the job it now works for", async () => {
    const resumed = `${finished}-ffff0000`;
    await mkdir(path.join(root, resumed, "workspace"), { recursive: true });
    await writeFile(path.join(root, resumed, OWNER_MARKER), running);
    const reaped = await reapLocalSandboxes(root, async (ids) => new Set(ids.filter((id) => id === running)));
    expect(reaped).toEqual([]);
    expect(await readdir(root)).toEqual([resumed]);
  });
});

describe("removeEarlierAttempts", () => {
  it("removes what a dead attempt of the job left (its own sandbox, and one it resumed), keeps its parked one and other jobs'", async () => {
    const dead = `${running}-aaaa1111`;
    const resumedByIt = `${finished}-bbbb1111`;
    const parked = `${running}-cccc1111`;
    const others = `${finished}-dddd1111`;
    for (const name of [dead, resumedByIt, parked, others]) await mkdir(path.join(root, name, "workspace"), { recursive: true });
    await writeFile(path.join(root, resumedByIt, OWNER_MARKER), running);
    await writeFile(path.join(root, parked, PARKED_MARKER), new Date().toISOString());
    expect((await removeEarlierAttempts(root, running)).sort()).toEqual([dead, resumedByIt].sort());
    expect((await readdir(root)).sort()).toEqual([parked, others].sort());
    expect(await removeEarlierAttempts(path.join(root, "missing"), running)).toEqual([]);
  });
});

describe("reapLocalSandboxes and spare sandboxes (warm agents)", () => {
  it("keeps a spare while the worker that made it lives, removes one whose worker died, and judges a taken one by its job", async () => {
    const dead = await deadPid();
    const mine = `spare-${process.pid}-aaaa1111`;
    const orphaned = `spare-${dead}-bbbb2222`;
    const takenRunning = `spare-${dead}-cccc3333`;
    const takenFinished = `spare-${process.pid}-dddd4444`;
    for (const name of [mine, orphaned, takenRunning, takenFinished]) await mkdir(path.join(root, name, "workspace"), { recursive: true });
    await writeFile(path.join(root, takenRunning, OWNER_MARKER), running);
    await writeFile(path.join(root, takenFinished, OWNER_MARKER), finished);

    const reaped = await reapLocalSandboxes(root, async (ids) => new Set(ids.filter((id) => id === running)));

    expect(reaped.sort()).toEqual([orphaned, takenFinished].sort());
    expect((await readdir(root)).sort()).toEqual([mine, takenRunning].sort());
    // A taken spare is an earlier attempt of its job like any other sandbox of it.
    expect(await removeEarlierAttempts(root, running)).toEqual([takenRunning]);
  });

  it("treats a spare's work repository (its checkout's source, in DATA_DIR/work) as the spare: kept while its worker lives", async () => {
    const dead = await deadPid();
    const mine = `spare-${process.pid}-eeee5555.git`;
    const orphaned = `spare-${dead}-ffff6666.git`;
    for (const name of [mine, orphaned]) await mkdir(path.join(root, name, "objects"), { recursive: true });

    expect(await reapLocalSandboxes(root, async () => new Set())).toEqual([orphaned]);
    expect(await readdir(root)).toEqual([mine]);
  });
});

/** The pid of a process that has ended (and, this soon, not been reused). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}
