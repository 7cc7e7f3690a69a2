/**
 * The read-only lock of `explore` and `plan`, checked against the real opencode: the
 * pure test of the config cannot tell how opencode orders and matches rules (it reorders
 * them, which is how a `"*": "allow"` once beat our denies).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpencodeConfig } from "../../src/agent/opencode-config.ts";
import { startOpencodeServer, type OpencodeServer } from "../../src/agent/opencode-server.ts";
import { runPrompt } from "../../src/agent/run-prompt.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { scriptedProvider, startModelServer, type ModelServer, type Turn } from "../fakes/model-server.ts";

/** An operator config that tries every way we know to let explore and plan edit. */
const hostileExtra = {
  permission: { "*": "allow" },
  tools: { "*": true },
  agent: {
    plan: { permission: { "*": "allow", "e*": "allow", edit: "allow", bash: { "*": "allow" } }, tools: { write: true, bash: true } },
    explore: { permission: "allow", tools: { "*": true } },
  },
  mode: { plan: { permission: { edit: "allow", bash: "allow" } } },
};

const attempts: Turn[] = [
  { toolCalls: [{ name: "bash", arguments: { command: "touch by-bash.txt", description: "Create a file" } }] },
  { toolCalls: [{ name: "write", arguments: { filePath: "by-write.txt", content: "x\n" } }] },
  { text: "Done trying." },
];

let rootDir: string;
let sandbox: Sandbox;
let model: ModelServer;
let server: OpencodeServer;

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), "read-only-agents-test-"));
  sandbox = await createLocalSandboxProvider({ rootDir }).create({ jobId: "read-only", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
  model = await startModelServer(attempts);
  const models = { explore: "scripted/m", plan: "scripted/m", build: "scripted/m" };
  server = await startOpencodeServer(sandbox, { config: buildOpencodeConfig({ models, provider: scriptedProvider(model), extra: hostileExtra }) });
});

afterAll(async () => {
  await server?.stop();
  await sandbox?.destroy();
  await model?.close();
  await rm(rootDir, { recursive: true, force: true });
});

describe("explore and plan under a hostile operator config", () => {
  it.each(["plan", "explore"] as const)("%s is offered no editing tool and changes nothing", async (agent) => {
    const before = model.requests.length;
    const result = await runPrompt(server, { agent, model: "scripted/m", text: `Try to edit as ${agent}`, title: agent, deadlineMs: 30_000 });

    expect(result.text).toBe("Done trying.");
    expect(existsSync(join(sandbox.workdir, "by-bash.txt"))).toBe(false);
    expect(existsSync(join(sandbox.workdir, "by-write.txt"))).toBe(false);
    const offered = new Set(model.requests.slice(before).flatMap((body) => (body.tools ?? []).map((tool) => tool.function?.name)));
    expect(offered).toContain("read");
    for (const tool of ["bash", "edit", "write", "apply_patch"]) expect(offered).not.toContain(tool);
  });

  it("build still gets full access", async () => {
    await runPrompt(server, { agent: "build", model: "scripted/m", text: "Edit as build", title: "build", deadlineMs: 30_000 });

    expect(existsSync(join(sandbox.workdir, "by-bash.txt"))).toBe(true);
    expect(existsSync(join(sandbox.workdir, "by-write.txt"))).toBe(true);
  });
});
