/**
 * What the agent runs with: an environment without the worker's secrets, and none of the
 * (untrusted) repository's own opencode config.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpencodeConfig } from "../../src/agent/opencode-config.ts";
import { startOpencodeServer, type OpencodeServer } from "../../src/agent/opencode-server.ts";
import { runPrompt } from "../../src/agent/run-prompt.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { scriptedProvider, startModelServer, type ModelServer } from "../fakes/model-server.ts";

let rootDir: string;
let sandbox: Sandbox;
let model: ModelServer;
let server: OpencodeServer;
let modelRequestsAtStart: number;
const config = () => buildOpencodeConfig({ models: { explore: "scripted/m", plan: "scripted/m", build: "scripted/m" }, provider: scriptedProvider(model) });

beforeAll(async () => {
  process.env.RUNNING_AGENT_TEST_SECRET = "worker-secret-value";
  rootDir = await mkdtemp(join(tmpdir(), "opencode-server-test-"));
  sandbox = await createLocalSandboxProvider({ rootDir }).create({ jobId: "server", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
  await sandbox.writeFile("opencode.json", JSON.stringify({ agent: { build: { prompt: "REPO-PROMPT-MARKER" } } }));
  await sandbox.writeFile("AGENTS.md", "AGENTS-MD-MARKER\n");
  model = await startModelServer([
    { toolCalls: [{ name: "bash", arguments: { command: "env > env.txt", description: "Dump the environment" } }] },
    { text: "Dumped." },
  ]);
  server = await startOpencodeServer(sandbox, { config: config(), env: { MODEL_API_KEY: "for-the-model" } });
  modelRequestsAtStart = model.requests.length;
});

afterAll(async () => {
  delete process.env.RUNNING_AGENT_TEST_SECRET;
  await server?.stop();
  await sandbox?.destroy();
  await model?.close();
  await rm(rootDir, { recursive: true, force: true });
});

describe("startOpencodeServer", () => {
  it("warms the server up (providers, agents, tools) without asking the model anything", () => {
    expect(modelRequestsAtStart).toBe(0);
  });

  it("runs the agent with the sandbox's environment and without the repository's opencode config", async () => {
    await runPrompt(server, { agent: "build", model: "scripted/m", text: "Dump env", title: "env", deadlineMs: 30_000 });

    const env = await sandbox.readFile("env.txt");
    expect(env).not.toContain("worker-secret-value");
    expect(env).toContain(`HOME=${sandbox.home}\n`);
    expect(env).toContain(`XDG_CONFIG_HOME=${join(sandbox.home, ".config")}\n`);
    expect(env).toContain("OPENCODE_DISABLE_MODELS_FETCH=1\n");
    // The scripted provider describes its models: opencode skips its bundled catalog.
    expect(env).toContain(`OPENCODE_MODELS_PATH=${join(sandbox.home, "model-catalog.json")}\n`);
    expect(await sandbox.readFile(join(sandbox.home, "model-catalog.json"))).toBe("{}\n");
    expect(env).toContain("MODEL_API_KEY=for-the-model\n");
    const sent = JSON.stringify(model.requests);
    expect(sent).not.toContain("REPO-PROMPT-MARKER");
    expect(sent).not.toContain("AGENTS-MD-MARKER");
  });

  it("answers only with the password", async () => {
    const anonymous = await fetch(`${server.url}/session`);
    expect(anonymous.status).toBe(401);
    const sessions = await server.client.session.list(undefined, { throwOnError: true });
    expect(Array.isArray(sessions.data)).toBe(true);
  });

  it("fails with the server's output when it does not start", async () => {
    const failure = await startOpencodeServer(sandbox, { config: config(), binary: "/bin/echo", startTimeoutMs: 5_000 }).catch((error: unknown) => error);

    expect(failure).toMatchObject({ kind: "agent" });
    expect((failure as Error).message).toMatch(/did not start[\s\S]*serve --hostname 127\.0\.0\.1 --port \d+/);
  });
});

describe("startOpencodeServer with bootWorkdir", () => {
  it("boots the workdir with a prompt no model answers, ended at its model request, and leaves the checkout as it was", async () => {
    const booted = await createLocalSandboxProvider({ rootDir }).create({ jobId: "boot", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
    let bootServer: OpencodeServer | undefined;
    try {
      await booted.writeFile("greet.js", "exports.greet = () => 'hi';\n");
      const committed = await booted.exec(["sh", "-c", "git init -q && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm init"]);
      expect(committed.exitCode).toBe(0);
      const before = model.requests.length;
      bootServer = await startOpencodeServer(booted, { config: config(), bootWorkdir: true });

      // The boot's session ran up to its model request, which could not connect, and was ended there.
      const sessions = (await bootServer.client.session.list(undefined, { throwOnError: true })).data;
      expect(sessions.map((session) => session.title)).toEqual(["warm-up"]);
      const messages = (await bootServer.client.session.messages({ sessionID: sessions[0]!.id }, { throwOnError: true })).data;
      expect(messages.map((message) => message.info.role)).toEqual(["user", "assistant"]);
      // In the workdir's project (found by git there), ended with nothing said and nothing spent.
      expect(messages[1]!.info).toMatchObject({ agent: "explore", providerID: "running-agent-boot", path: { root: booted.workdir }, cost: 0, time: { completed: expect.any(Number) } });
      expect(messages[1]!.parts.filter((part) => part.type === "text" || part.type === "tool")).toEqual([]);
      const status = (await bootServer.client.session.status(undefined, { throwOnError: true })).data;
      expect(status[sessions[0]!.id]?.type ?? "idle").toBe("idle");
      // No model was asked anything, and the checkout is untouched: nothing new, not even ignored.
      expect(model.requests.length).toBe(before);
      expect((await booted.exec(["git", "status", "--porcelain", "--ignored"])).stdout).toBe("");
    } finally {
      await bootServer?.stop();
      await booted.destroy();
    }
  });
});
