/**
 * The real opencode binary, in a local sandbox, against the scripted model. One server
 * for the file (starting one takes seconds); each test picks its scenario with a tag in
 * its prompt, which the script reads from the last user message.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpencodeConfig } from "../../src/agent/opencode-config.ts";
import { startOpencodeServer, type OpencodeServer } from "../../src/agent/opencode-server.ts";
import { runPrompt, type PromptProgress } from "../../src/agent/run-prompt.ts";
import { HANG_MS } from "../support/patience.ts";
import { JobError } from "../../src/job-error.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { describeRequest, scriptedProvider, startModelServer, type ModelRequest, type ModelServer, type Turn } from "../fakes/model-server.ts";
import { processesUnder, waitUntil } from "../sandbox/processes.ts";

const usage = { prompt_tokens: 1_000, completion_tokens: 100 };

function scenario(request: ModelRequest): Turn {
  const tag = /\[(\w[\w-]*)\]/.exec(request.lastUserText)?.[1] ?? "";
  const step = request.turnIndex;
  switch (tag) {
    case "write":
      if (step === 0) return { toolCalls: [{ name: "write", arguments: { filePath: "hello.txt", content: "hello from the agent\n" } }], usage };
      return { text: "I wrote hello.txt.", usage };
    case "plan-write":
      if (step === 0) return { toolCalls: [{ name: "write", arguments: { filePath: "plan-was-here.txt", content: "oops\n" } }], usage };
      return { text: "Plan: change nothing.", usage };
    case "delegate":
      if (step === 0) {
        const task = { description: "Look around", prompt: "[child] List the files.", subagent_type: "explore" };
        return { toolCalls: [{ name: "task", arguments: task }], usage };
      }
      return { text: "The explorer reported back.", usage };
    case "child":
      return { text: "There are no files.", usage };
    case "http-400":
      return { status: 400, body: { error: { message: "Unsupported parameter: tools", type: "invalid_request_error" } } };
    case "hang":
      return { hang: true };
    default:
      return { text: `No scenario for "${tag}".` };
  }
}

let rootDir: string;
let sandbox: Sandbox;
let model: ModelServer;
let server: OpencodeServer;
const config = () =>
  buildOpencodeConfig({ models: { explore: "scripted/m", plan: "scripted/m", build: "scripted/m" }, provider: scriptedProvider(model) });

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), "run-prompt-test-"));
  sandbox = await createLocalSandboxProvider({ rootDir }).create({ jobId: "prompt", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
  model = await startModelServer(scenario);
  server = await startOpencodeServer(sandbox, { config: config() });
});

afterAll(async () => {
  await server?.stop();
  await sandbox?.destroy();
  await model?.close();
  await rm(rootDir, { recursive: true, force: true });
});

function prompt(agent: "build" | "plan" | "explore", text: string, deadlineMs = 30_000, onProgress?: (progress: PromptProgress) => void) {
  return runPrompt(server, { agent, model: "scripted/m", text, title: text, deadlineMs, onProgress });
}

describe("runPrompt with the real opencode", () => {
  it("lets the build agent write a file and returns its answer, cost and tokens", async () => {
    const progress: PromptProgress[] = [];
    const result = await prompt("build", "[write] Create hello.txt", 30_000, (event) => progress.push(event));

    expect(await sandbox.readFile("hello.txt")).toBe("hello from the agent\n");
    expect(result).toMatchObject({ text: "I wrote hello.txt.", tokensIn: 2_000, tokensOut: 200, toolCalls: 1 });
    expect(result.cost).toBeCloseTo((2_000 * 1 + 200 * 2) / 1e6, 9);
    expect(result.sessionId).toMatch(/^ses_/);
    expect(progress).toContainEqual(expect.objectContaining({ kind: "tool", tool: "write", status: "completed" }));
    expect(progress.filter((event) => event.kind === "usage").at(-1)).toMatchObject({ tokensIn: 2_000 });
  });

  it("keeps the plan agent from writing, even when the model tries", async () => {
    const result = await prompt("plan", "[plan-write] Plan the change");

    expect(result.text).toBe("Plan: change nothing.");
    expect(existsSync(join(sandbox.workdir, "plan-was-here.txt"))).toBe(false);
    const planRequests = model.requests.filter((body) => JSON.stringify(body.messages).includes("[plan-write]"));
    expect(planRequests.map((body) => describeRequest(body).agent)).toEqual(["plan", "plan"]);
    const offered = planRequests.flatMap((body) => body.tools ?? []);
    const names = offered.map((tool) => tool.function?.name);
    expect(names).toContain("read");
    expect(names).not.toContain("write");
    expect(names).not.toContain("edit");
    expect(names).not.toContain("bash");
  });

  it("sums the usage of subagent sessions into the prompt's", async () => {
    const result = await prompt("build", "[delegate] Ask the explorer");

    expect(result.text).toBe("The explorer reported back.");
    const childRequest = model.requests.map(describeRequest).find((request) => request.lastUserText.includes("[child] List the files."));
    expect(childRequest?.agent).toBe("explore");
    // Two build steps and one explore step, 1,000 prompt tokens each.
    expect(result.tokensIn).toBe(3_000);
    expect(result.toolCalls).toBe(1);
  });

  it("continues a session, counting only the new prompt's usage", async () => {
    const first = await prompt("build", "[child] Say something");
    const second = await runPrompt(server, { agent: "build", model: "scripted/m", text: "[child] Again", title: "unused", deadlineMs: 30_000, sessionId: first.sessionId });

    expect(second.sessionId).toBe(first.sessionId);
    expect(second.tokensIn).toBe(1_000);
  });

  it("reports a model HTTP 400 as a model error that a retry will not fix", async () => {
    const failure = await prompt("build", "[http-400] Anything").catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(JobError);
    expect(failure).toMatchObject({ kind: "model", retryable: false });
    expect((failure as JobError).message).toContain("Unsupported parameter: tools");
  });

  it("aborts the session when the deadline passes", async () => {
    const before = model.requests.length;
    const failure = await prompt("build", "[hang] Think forever", 3_000).catch((error: unknown) => error);

    expect(failure).toMatchObject({ kind: "timeout" });
    expect(model.requests.slice(before).some((body) => JSON.stringify(body.messages).includes("[hang]"))).toBe(true);
    const statuses = (await server.client.session.status(undefined, { throwOnError: true })).data;
    const sessions = (await server.client.session.list(undefined, { throwOnError: true })).data;
    const hung = sessions.find((session) => session.title === "[hang] Think forever");
    expect(hung).toBeDefined();
    expect(statuses[hung!.id]?.type ?? "idle").toBe("idle");
    const messages = (await server.client.session.messages({ sessionID: hung!.id }, { throwOnError: true })).data;
    const last = messages.at(-1)?.info;
    expect(last?.role === "assistant" ? last.error?.name : undefined).toBe("MessageAbortedError");
  });

  it("stops on the caller's abort signal", async () => {
    const controller = new AbortController();
    const running = runPrompt(server, { agent: "build", model: "scripted/m", text: "[hang] Wait", title: "abortable", deadlineMs: 30_000, signal: controller.signal });
    await waitUntil(() => model.requests.some((body) => JSON.stringify(body.messages).includes("[hang] Wait")), HANG_MS, "the model request");
    controller.abort();

    await expect(running).rejects.toMatchObject({ kind: "cancelled" });
  });

  it("stops the server and its whole process group", async () => {
    expect(processesUnder(dirname(sandbox.workdir)).length).toBeGreaterThan(0);
    await server.stop();
    await server.stop();

    expect(await server.exited).not.toBeUndefined();
    await waitUntil(() => processesUnder(dirname(sandbox.workdir)).length === 0, HANG_MS, "opencode's processes to end");
  });
});
