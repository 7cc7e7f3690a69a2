/**
 * A fake of E2B over real HTTP, for the `e2b` SDK pointed at it (`apiUrl` and
 * `sandboxUrl` both = `fake.url`). Two halves, as the SDK (2.51) sees them:
 *
 * - the control-plane API (`X-API-KEY`): `POST /v2/sandboxes`, `GET /v2/sandboxes`
 *   (`metadata=k%3Dv`, `state=running,paused`), `DELETE /sandboxes/:id`,
 *   `POST /sandboxes/:id/pause`;
 * - each VM's envd (`E2b-Sandbox-Id` and `X-Access-Token` headers): Connect-RPC with JSON
 *   for `process.Process/Start` (server streaming, enveloped) and `SendSignal`,
 *   `filesystem.Filesystem/MakeDir`, `Stat` and `Remove` (unary), and `POST|GET /files`
 *   for upload (multipart) and download.
 *
 * Commands do not run: the test's `onCommand` plays the process (output, exit) through a
 * `FakeProcess`. Files live in memory. Every request is recorded.
 * Longer than most files: one route table and its handlers read best side by side.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeE2bRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  /** Parsed JSON body (envelope removed for streams); null otherwise. */
  body: unknown;
}

export interface FakeSandbox {
  sandboxID: string;
  templateID: string;
  metadata: Record<string, string>;
  state: "running" | "paused";
  startedAt: string;
  endAt: string;
  envdAccessToken: string;
  trafficAccessToken: string;
  /** The create request's body as received. */
  created: Record<string, unknown>;
  /** The last connect (resume) request's body, if any. */
  connected?: Record<string, unknown>;
  /** By absolute path; bytes as uploaded (`text()` reads one as UTF-8). */
  files: Map<string, Buffer>;
  dirs: Set<string>;
}

export interface FakeCommand {
  sandboxId: string;
  cmd: string;
  args: string[];
  cwd: string | undefined;
  envs: Record<string, string>;
  /** The script bash gets (`args` is `["-l", "-c", script]`). */
  script: string;
}

export interface FakeProcess {
  readonly pid: number;
  stdout(text: string): void;
  stderr(text: string): void;
  /** End the process with this exit code (-1: killed by a signal, as envd reports it). */
  exit(code: number): void;
  readonly ended: boolean;
}

export interface FakeE2b {
  url: string;
  apiKey: string;
  requests: FakeE2bRequest[];
  sandboxes: Map<string, FakeSandbox>;
  commands: FakeCommand[];
  /** Plays each started command. Default: exit 0 with no output. */
  onCommand: (command: FakeCommand, process: FakeProcess) => void;
  /** Add a sandbox as if created elsewhere (another worker, another app). */
  seed(sandbox: Partial<FakeSandbox> & { sandboxID: string }): FakeSandbox;
  close(): Promise<void>;
}

const envdVersion = "0.5.7";

export async function startFakeE2b(options: { apiKey?: string } = {}): Promise<FakeE2b> {
  const apiKey = options.apiKey ?? `e2b_${randomBytes(20).toString("hex")}`;
  const sandboxes = new Map<string, FakeSandbox>();
  const requests: FakeE2bRequest[] = [];
  const commands: FakeCommand[] = [];
  const processes = new Map<number, { sandboxId: string; process: FakeProcess }>();
  let nextPid = 100;

  const seed = (partial: Partial<FakeSandbox> & { sandboxID: string }): FakeSandbox => {
    const now = new Date();
    const sandbox: FakeSandbox = {
      templateID: "running-agent",
      metadata: {},
      state: "running",
      startedAt: now.toISOString(),
      endAt: new Date(now.getTime() + 3_600_000).toISOString(),
      envdAccessToken: randomBytes(16).toString("hex"),
      trafficAccessToken: randomBytes(16).toString("hex"),
      created: {},
      files: new Map(),
      dirs: new Set(),
      ...partial,
    };
    sandboxes.set(sandbox.sandboxID, sandbox);
    return sandbox;
  };

  const fake: FakeE2b = {
    url: "",
    apiKey,
    requests,
    sandboxes,
    commands,
    onCommand: (_command, process) => process.exit(0),
    seed,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => json(res, 500, { code: 500, message: String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readBody(req);
    const contentType = req.headers["content-type"] ?? "";
    const body = contentType.startsWith("application/connect+json") ? JSON.parse(raw.subarray(5).toString("utf8")) : contentType.startsWith("application/json") && raw.length > 0 ? JSON.parse(raw.toString("utf8")) : null;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(",") : value]));
    requests.push({ method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body });

    const envdSandboxId = req.headers["e2b-sandbox-id"];
    if (typeof envdSandboxId === "string") return handleEnvd(envdSandboxId, req, res, url, raw, body);
    if (req.headers["x-api-key"] !== apiKey) return json(res, 401, { code: 401, message: "Invalid API key" });
    const route = `${req.method} ${url.pathname}`;
    if (route === "POST /v2/sandboxes") return createSandbox(res, body as Record<string, unknown>);
    if (route === "GET /v2/sandboxes") return listSandboxes(res, url.searchParams);
    const connect = /^\/v2\/sandboxes\/([^/]+)\/connect$/.exec(url.pathname);
    if (connect && req.method === "POST") return connectSandbox(res, decodeURIComponent(connect[1] ?? ""), body as Record<string, unknown> | null);
    const match = /^\/sandboxes\/([^/]+)(\/pause)?$/.exec(url.pathname);
    const sandbox = match ? sandboxes.get(decodeURIComponent(match[1] ?? "")) : undefined;
    if (match && !sandbox) return json(res, 404, { code: 404, message: "sandbox not found" });
    if (sandbox && req.method === "DELETE" && !match?.[2]) {
      sandboxes.delete(sandbox.sandboxID);
      for (const entry of processes.values()) if (entry.sandboxId === sandbox.sandboxID) entry.process.exit(-1);
      return empty(res, 204);
    }
    if (sandbox && req.method === "POST" && match?.[2]) {
      if (sandbox.state === "paused") return json(res, 409, { code: 409, message: "already paused" });
      sandbox.state = "paused";
      return empty(res, 204);
    }
    return json(res, 404, { code: 404, message: `no route ${route}` });
  }

  /** `Sandbox.connect`: resumes a paused sandbox (200), or answers for a running one (201 in E2B's API; either works). */
  function connectSandbox(res: ServerResponse, id: string, body: Record<string, unknown> | null): void {
    const sandbox = sandboxes.get(id);
    if (!sandbox) return json(res, 404, { code: 404, message: "sandbox not found" });
    sandbox.state = "running";
    sandbox.connected = body ?? {};
    json(res, 200, { sandboxID: sandbox.sandboxID, templateID: sandbox.templateID, clientID: "fake", envdVersion, envdAccessToken: sandbox.envdAccessToken, trafficAccessToken: sandbox.trafficAccessToken, domain: null });
  }

  function createSandbox(res: ServerResponse, body: Record<string, unknown>): void {
    const sandbox = seed({
      sandboxID: `sbx${randomBytes(6).toString("hex")}`,
      templateID: String(body.templateID),
      metadata: (body.metadata as Record<string, string> | undefined) ?? {},
      created: body,
    });
    json(res, 201, { sandboxID: sandbox.sandboxID, templateID: sandbox.templateID, clientID: "fake", envdVersion, envdAccessToken: sandbox.envdAccessToken, trafficAccessToken: sandbox.trafficAccessToken, domain: null });
  }

  function listSandboxes(res: ServerResponse, query: URLSearchParams): void {
    const wanted = Object.fromEntries(new URLSearchParams(query.get("metadata") ?? ""));
    const states = (query.get("state") ?? "running,paused").split(",");
    const found = [...sandboxes.values()].filter((sandbox) => states.includes(sandbox.state) && Object.entries(wanted).every(([key, value]) => sandbox.metadata[key] === value));
    json(
      res,
      200,
      found.map((sandbox) => ({
        sandboxID: sandbox.sandboxID,
        templateID: sandbox.templateID,
        clientID: "fake",
        metadata: sandbox.metadata,
        state: sandbox.state,
        startedAt: sandbox.startedAt,
        endAt: sandbox.endAt,
        cpuCount: 2,
        memoryMB: 512,
        diskSizeMB: 1024,
        envdVersion,
      })),
    );
  }

  async function handleEnvd(sandboxId: string, req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer, body: unknown): Promise<void> {
    const sandbox = sandboxes.get(sandboxId);
    // A killed VM's port is gone: E2B's edge answers 502, which the SDK reads as "sandbox not running".
    if (!sandbox || sandbox.state !== "running") return json(res, 502, { code: 502, message: "sandbox not running" });
    if (url.pathname === "/health") return empty(res, 204);
    if (req.headers["x-access-token"] !== sandbox.envdAccessToken) return json(res, 401, { code: 401, message: "bad access token" });
    const path = url.searchParams.get("path") ?? "";
    if (url.pathname === "/files" && req.method === "GET") {
      const content = sandbox.files.get(path);
      if (content === undefined) return json(res, 404, { code: 404, message: `path '${path}' does not exist` });
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": content.length });
      return void res.end(content);
    }
    if (url.pathname === "/files" && req.method === "POST") {
      const form = await new Response(new Uint8Array(raw), { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
      const file = form.get("file");
      if (!(file instanceof Blob)) return json(res, 400, { code: 400, message: "no file" });
      sandbox.files.set(path, Buffer.from(await file.arrayBuffer()));
      return json(res, 200, [{ name: posixBasename(path), type: "file", path }]);
    }
    const request = body as Record<string, unknown> | null;
    switch (url.pathname) {
      case "/filesystem.Filesystem/MakeDir":
        sandbox.dirs.add(String(request?.path));
        return json(res, 200, { entry: { name: posixBasename(String(request?.path)), type: "FILE_TYPE_DIRECTORY", path: request?.path } });
      case "/filesystem.Filesystem/Stat": {
        const content = sandbox.files.get(String(request?.path));
        if (content === undefined) return json(res, 404, { code: "not_found", message: "no such file" });
        return json(res, 200, { entry: { name: posixBasename(String(request?.path)), type: "FILE_TYPE_FILE", path: request?.path, size: String(content.length) } });
      }
      case "/filesystem.Filesystem/Remove":
        if (!sandbox.files.delete(String(request?.path))) return json(res, 404, { code: "not_found", message: "no such file" });
        return json(res, 200, {});
      case "/process.Process/SendSignal": {
        const pid = Number((request?.process as { pid?: number } | undefined)?.pid);
        const process = processes.get(pid)?.process;
        if (!process || process.ended) return json(res, 404, { code: "not_found", message: `process ${pid} not found` });
        process.exit(-1);
        return json(res, 200, {});
      }
      case "/process.Process/Start":
        return startProcess(sandbox, res, request ?? {});
      default:
        return json(res, 404, { code: "unimplemented", message: `the fake has no ${url.pathname}` });
    }
  }

  function startProcess(sandbox: FakeSandbox, res: ServerResponse, request: Record<string, unknown>): void {
    const config = (request.process ?? {}) as { cmd?: string; args?: string[]; cwd?: string; envs?: Record<string, string> };
    const command: FakeCommand = {
      sandboxId: sandbox.sandboxID,
      cmd: config.cmd ?? "",
      args: config.args ?? [],
      cwd: config.cwd,
      envs: config.envs ?? {},
      script: config.args?.[2] ?? "",
    };
    commands.push(command);
    const pid = nextPid++;
    res.writeHead(200, { "content-type": "application/connect+json" });
    res.write(envelope(0, { event: { start: { pid } } }));
    let ended = false;
    const process: FakeProcess = {
      pid,
      get ended() {
        return ended;
      },
      stdout: (text) => void (ended || res.write(envelope(0, { event: { data: { stdout: Buffer.from(text).toString("base64") } } }))),
      stderr: (text) => void (ended || res.write(envelope(0, { event: { data: { stderr: Buffer.from(text).toString("base64") } } }))),
      exit: (code) => {
        if (ended) return;
        ended = true;
        const status = code < 0 ? "signal: killed" : `exit status ${code}`;
        res.write(envelope(0, { event: { end: { exitCode: code, exited: code >= 0, status } } }));
        res.end(envelope(2, {}));
      },
    };
    processes.set(pid, { sandboxId: sandbox.sandboxID, process });
    // A client that let go (disconnect) ends the stream, not the process; nothing to do here.
    fake.onCommand(command, process);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** A Connect streaming frame: flags byte, big-endian length, JSON. Flag 2 ends the stream. */
function envelope(flags: number, message: unknown): Buffer {
  const data = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function empty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function posixBasename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
