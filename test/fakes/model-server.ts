/**
 * A scripted OpenAI-compatible model server, so tests run the real opencode binary
 * without a real model. It answers `POST /v1/chat/completions` with the turns of a
 * script, streamed the way opencode expects (see FIELD-NOTES): tool-call deltas, a
 * finish_reason, then a usage-only chunk.
 *
 * Which turn answers a request: the number of assistant messages after the LAST user
 * message. That makes a script describe one prompt's loop, whatever else interleaves
 * (subagents, title requests, a second prompt in the same session starts over).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CustomProvider } from "../../src/agent/opencode-config.ts";
import { writeChatCompletion, writeChatCompletionStream } from "./model-server-wire.ts";

export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type Turn =
  | { toolCalls: ScriptedToolCall[]; text?: string; usage?: Usage }
  | { text: string; usage?: Usage }
  /**
   * An HTTP error. opencode retries 5xx and 429 five times with backoff (about 70 s);
   * `retryAfterMs` sends `retry-after-ms`, which opencode honours, so tests need not wait.
   */
  | { status: number; body?: unknown; retryAfterMs?: number; usage?: Usage }
  | { hang: true; usage?: Usage };

/** What a script function sees about a request. */
export interface ModelRequest {
  body: ChatRequestBody;
  /** `explore`, `plan`, `build`, `general`… from the model id or the system prompt. */
  agent: string;
  /** Assistant messages after the last user message: 0 for the first step of a prompt. */
  turnIndex: number;
  /** Text of the last user message. */
  lastUserText: string;
  /** Names of the tools offered. */
  tools: string[];
}

/** A function may answer later (a Promise): a test can hold one agent until another has got somewhere. */
export type Script = Turn[] | Partial<Record<string, Turn[]>> | ((request: ModelRequest) => Turn | Promise<Turn>);

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown[];
}

export interface ChatRequestBody {
  model: string;
  stream?: boolean;
  messages: ChatMessage[];
  tools?: { function?: { name?: string } }[];
  [key: string]: unknown;
}

export interface ModelServer {
  /** `http://127.0.0.1:PORT/v1`, the provider's baseURL. */
  baseUrl: string;
  /** Every request body received, parsed, in order (title requests included). */
  requests: ChatRequestBody[];
  /**
   * The provider down from now on: `"refuse"` closes the port (connections refused), a
   * status answers every request with it (and `retry-after`, in seconds, when given); null
   * serves again on the same port.
   */
  setOutage(outage: ModelOutage | null): Promise<void>;
  close(): Promise<void>;
}

export type ModelOutage = "refuse" | { status: number; retryAfterSeconds?: number };

/**
 * The opencode provider entry for a scripted server: provider `scripted`, one model per
 * name (default `m`, so `scripted/m`). Name models after agents (`explore`, `plan`,
 * `build`) to let a per-agent script tell requests apart by model. The cost is there so
 * that tests see non-zero cost: $1 and $2 per million input and output tokens.
 */
export function scriptedProvider(server: Pick<ModelServer, "baseUrl">, models: string[] = ["m"]): CustomProvider {
  const entry = { tool_call: true, limit: { context: 128_000, output: 8_192 }, cost: { input: 1, output: 2 } };
  return {
    id: "scripted",
    name: "Scripted test model",
    baseURL: server.baseUrl,
    apiKey: "scripted-key",
    models: Object.fromEntries(models.map((name) => [name, { name, ...entry }])),
  };
}

const defaultUsage: Usage = { prompt_tokens: 100, completion_tokens: 10 };

export async function startModelServer(script: Script): Promise<ModelServer> {
  const requests: ChatRequestBody[] = [];
  let outage: ModelOutage | null = null;
  const server = createServer((req, res) => {
    if (outage !== null && outage !== "refuse") {
      const retryAfter = outage.retryAfterSeconds === undefined ? {} : { "retry-after": String(outage.retryAfterSeconds) };
      req.resume();
      res.writeHead(outage.status, { "content-type": "application/json", ...retryAfter }).end(JSON.stringify({ error: { message: `provider outage (HTTP ${outage.status})`, type: "outage" } }));
      return;
    }
    void answerRequest(req, res, script, requests);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const closeServer = async () => {
    // Hanging turns keep their sockets open on purpose; cut them so close() returns.
    server.closeAllConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    async setOutage(next) {
      const wasRefusing = outage === "refuse";
      outage = next;
      if (next === "refuse" && !wasRefusing) await closeServer();
      if (next !== "refuse" && wasRefusing) await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    close: closeServer,
  };
}

async function answerRequest(req: IncomingMessage, res: ServerResponse, script: Script, log: ChatRequestBody[]): Promise<void> {
  if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
    return;
  }
  const body = JSON.parse(await readBody(req)) as ChatRequestBody;
  log.push(body);
  const request = describeRequest(body);
  // opencode asks for a session title without tools; it must not consume a scripted turn.
  const turn = request.tools.length === 0 ? { text: "Scripted title" } : await pickTurn(script, request);
  if ("hang" in turn) return;
  if ("status" in turn) {
    const payload = turn.body ?? { error: { message: `scripted HTTP ${turn.status}`, type: "scripted_error" } };
    const retryAfter = turn.retryAfterMs === undefined ? {} : { "retry-after-ms": String(turn.retryAfterMs) };
    res.writeHead(turn.status, { "content-type": "application/json", ...retryAfter }).end(JSON.stringify(payload));
    return;
  }
  const usage = turn.usage ?? defaultUsage;
  const toolCalls = "toolCalls" in turn ? turn.toolCalls : [];
  const answer = { model: body.model, text: turn.text ?? "", toolCalls, usage };
  if (body.stream === false) {
    writeChatCompletion(res, answer);
    return;
  }
  writeChatCompletionStream(res, answer);
}

function pickTurn(script: Script, request: ModelRequest): Turn | Promise<Turn> {
  if (typeof script === "function") return script(request);
  const turns = Array.isArray(script) ? script : (script[request.agent] ?? []);
  return turns[request.turnIndex] ?? { text: `Script exhausted (${request.agent}, turn ${request.turnIndex}).` };
}

export function describeRequest(body: ChatRequestBody): ModelRequest {
  const messages = body.messages ?? [];
  const lastUser = messages.findLastIndex((message) => message.role === "user");
  const turnIndex = messages.slice(lastUser + 1).filter((message) => message.role === "assistant").length;
  const tools = (body.tools ?? []).map((tool) => tool.function?.name ?? "").filter((name) => name !== "");
  return {
    body,
    agent: detectAgent(body),
    turnIndex,
    lastUserText: lastUser < 0 ? "" : textOf(messages[lastUser]?.content),
    tools,
  };
}

/** The model id names the agent when the provider defines one model per agent; else guess from the prompts. */
function detectAgent(body: ChatRequestBody): string {
  const byModel = body.model.split("/").at(-1) ?? "";
  if (["explore", "plan", "build", "general"].includes(byModel)) return byModel;
  const system = body.messages.filter((message) => message.role === "system").map((message) => textOf(message.content)).join("\n");
  if (system.includes("file search specialist")) return "explore";
  // opencode appends this reminder to the plan agent's user messages (seen with opencode 1.18).
  const userText = body.messages.filter((message) => message.role === "user").map((message) => textOf(message.content)).join("\n");
  if (userText.includes("# Plan Mode - System Reminder")) return "plan";
  return "build";
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) => (typeof part === "object" && part !== null && "text" in part ? String(part.text) : ""))
    .join("");
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
