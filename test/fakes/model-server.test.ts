/** The scripted model server speaks the wire format opencode reads; checked without opencode. */
import { afterEach, describe, expect, it } from "vitest";
import { startModelServer, type ModelServer, type Script } from "./model-server.ts";

const servers: ModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(script: Script): Promise<ModelServer> {
  const server = await startModelServer(script);
  servers.push(server);
  return server;
}

const tools = [{ type: "function", function: { name: "write", parameters: {} } }];

function post(server: ModelServer, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${server.baseUrl}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", tools, ...body }) });
}

async function chunksOf(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice("data: ".length)) as unknown);
}

describe("scripted model server", () => {
  it("streams a tool call the way providers do, then the usage", async () => {
    const server = await serve([{ toolCalls: [{ name: "write", arguments: { filePath: "a" } }], usage: { prompt_tokens: 7, completion_tokens: 3 } }]);
    const response = await post(server, { stream: true, messages: [{ role: "user", content: "go" }] });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const chunks = await chunksOf(response);
    expect(chunks).toMatchObject([
      { choices: [{ delta: { role: "assistant" } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, type: "function", function: { name: "write", arguments: "" } }] }, finish_reason: null }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"filePath":"a"}' } }] } }] },
      { choices: [{ finish_reason: "tool_calls" }] },
      { choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } },
    ]);
    expect(server.requests).toHaveLength(1);
  });

  it("picks the turn from the assistant messages after the last user message", async () => {
    const server = await serve([{ text: "first" }, { text: "second" }]);
    const messages = [{ role: "user", content: "go" }, { role: "assistant", content: "", tool_calls: [] }, { role: "tool", content: "ok" }];
    const response = await post(server, { stream: false, messages });
    expect(await response.json()).toMatchObject({ choices: [{ message: { role: "assistant", content: "second" }, finish_reason: "stop" }] });
    const restarted = await post(server, { stream: false, messages: [...messages, { role: "user", content: "again" }] });
    expect(await restarted.json()).toMatchObject({ choices: [{ message: { content: "first" } }] });
  });

  it("answers title requests (no tools) without using a turn, and scripted HTTP errors", async () => {
    const server = await serve([{ status: 429, body: { error: { message: "slow down" } } }]);
    const title = await post(server, { stream: false, tools: undefined, messages: [{ role: "user", content: "name this" }] });
    expect(await title.json()).toMatchObject({ choices: [{ message: { content: "Scripted title" } }] });
    const failed = await post(server, { messages: [{ role: "user", content: "go" }] });
    expect(failed.status).toBe(429);
    expect(await failed.json()).toEqual({ error: { message: "slow down" } });
  });

  it("tells agents apart by model name, and takes a function", async () => {
    const byAgent = await serve({ plan: [{ text: "a plan" }], build: [{ text: "built" }] });
    const planned = await post(byAgent, { model: "plan", stream: false, messages: [{ role: "user", content: "go" }] });
    expect(await planned.json()).toMatchObject({ choices: [{ message: { content: "a plan" } }] });
    const custom = await serve((request) => ({ text: `${request.agent}:${request.turnIndex}:${request.lastUserText}:${request.tools.join(",")}` }));
    const answered = await post(custom, { stream: false, messages: [{ role: "user", content: "hi" }] });
    expect(await answered.json()).toMatchObject({ choices: [{ message: { content: "build:0:hi:write" } }] });
  });
});
