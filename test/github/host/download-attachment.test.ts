import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { downloadImage, imageTypeOf, type DownloadOptions } from "../../../src/github/host/download-attachment.ts";

const MB = 1024 * 1024;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1]);
const GIF87 = Buffer.from("GIF87a\x01\x00\x01\x00\x00\x00\x00", "latin1");
const GIF89 = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00", "latin1");
const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.from([26, 0, 0, 0]), Buffer.from("WEBPVP8 "), Buffer.alloc(8)]);

interface Seen {
  path: string;
  authorization: string | undefined;
}
interface TestServer {
  origin: string;
  seen: Seen[];
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server on its own port of 127.0.0.1: two of them are two origins. */
async function startServer(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    seen.push({ path: request.url ?? "", authorization: request.headers.authorization });
    handle(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function serve(bytes: Buffer, contentType: string) {
  return (_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, { "content-type": contentType, "content-length": bytes.length });
    response.end(bytes);
  };
}

function redirectTo(location: string, status = 302) {
  return (_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(status, { location });
    response.end("moved");
  };
}

/** What the server saw of a body it streamed: how much it wrote before the connection closed, and whether it got to the end. */
interface Streamed {
  written: number;
  finished: boolean;
}

/**
 * Streams `total` bytes starting with `first`, 64 KiB at a time as the client takes them
 * (never the whole body in memory), and reports once the response closes.
 */
function streamBody(response: ServerResponse, first: Buffer, total: number, headers: Record<string, string | number>): Promise<Streamed> {
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  return new Promise((resolve) => {
    response.on("close", () => resolve({ written, finished: response.writableFinished }));
    response.writeHead(200, headers);
    const pump = (): void => {
      while (written < total && !response.destroyed) {
        const piece = written === 0 ? Buffer.concat([first, chunk.subarray(first.length)]) : chunk;
        written += piece.length;
        if (!response.write(piece)) return void response.once("drain", pump);
      }
      if (written >= total) response.end();
    };
    pump();
  });
}

/** A promise and the function that settles it: the handler of a request hands the test what it saw. */
function signal<T>(): { promise: Promise<T>; settle: (value: T) => void } {
  let settle: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => (settle = resolve));
  return { promise, settle };
}

function optionsFor(webOrigin: string, overrides: Partial<DownloadOptions> = {}): DownloadOptions & { tokenCalls: () => number } {
  let calls = 0;
  return {
    webOrigin,
    token: async () => {
      calls += 1;
      return "ghs_installation";
    },
    maxBytes: 5 * MB,
    tokenCalls: () => calls,
    ...overrides,
  };
}

describe("downloadImage", () => {
  it("sends the token to GitHub's origin and not to the storage it redirects to", async () => {
    const storage = await startServer(serve(PNG, "image/png"));
    const github = await startServer(redirectTo(`${storage.origin}/signed/abc?sig=1`));
    const options = optionsFor(github.origin);
    const image = await downloadImage(`${github.origin}/user-attachments/assets/abc`, options);
    expect(image).toEqual({ ok: true, bytes: PNG, mediaType: "image/png", extension: "png" });
    expect(github.seen).toEqual([{ path: "/user-attachments/assets/abc", authorization: "Bearer ghs_installation" }]);
    expect(storage.seen).toEqual([{ path: "/signed/abc?sig=1", authorization: undefined }]);
  });

  it("resolves a relative redirect, and asks for the token once however many requests go to GitHub", async () => {
    const github = await startServer((request, response) => (request.url === "/files/abc" ? serve(JPEG, "image/jpeg")(request, response) : redirectTo("/files/abc", 307)(request, response)));
    const options = optionsFor(github.origin);
    const image = await downloadImage(`${github.origin}/storage/user/1/files/abc`, options);
    expect(image).toMatchObject({ ok: true, extension: "jpg" });
    expect(github.seen.map((seen) => seen.authorization)).toEqual(["Bearer ghs_installation", "Bearer ghs_installation"]);
    expect(options.tokenCalls()).toBe(1);
  });

  it.each([
    ["png", PNG, "image/png"],
    ["jpg", JPEG, "image/jpeg"],
    ["gif", GIF87, "image/gif"],
    ["gif", GIF89, "image/gif"],
    ["webp", WEBP, "image/webp"],
  ] as const)("downloads a %s by its bytes, whatever the server calls it, without asking for a token off GitHub", async (extension, bytes, mediaType) => {
    const storage = await startServer(serve(bytes, "application/octet-stream"));
    const options = optionsFor("http://127.0.0.1:1");
    const image = await downloadImage(`${storage.origin}/image`, options);
    expect(image).toEqual({ ok: true, bytes, mediaType, extension });
    expect(storage.seen[0]!.authorization).toBeUndefined();
    expect(options.tokenCalls()).toBe(0);
  });

  it("stops reading a body that grows past the limit, and says how far it got", async () => {
    const streamed = signal<Streamed>();
    const storage = await startServer((_request, response) => void streamBody(response, PNG, 20 * MB, { "content-type": "image/png" }).then(streamed.settle));
    const image = await downloadImage(`${storage.origin}/huge.png`, optionsFor("http://127.0.0.1:1"));
    expect(image).toEqual({ ok: false, reason: expect.stringMatching(/^stopped at 5\.\d MB, over the 5 MB limit$/) });
    const server = await streamed.promise;
    expect(server.finished).toBe(false);
    expect(server.written).toBeLessThan(20 * MB);
  });

  it("refuses a declared length over the limit before reading the body", async () => {
    const closed = signal<boolean>();
    const storage = await startServer((_request, response) => {
      response.on("close", () => closed.settle(response.writableFinished));
      response.writeHead(200, { "content-type": "image/png", "content-length": 22 * MB });
      // Never more than this: a reader waiting for the rest would time out instead.
      response.write(PNG);
    });
    const image = await downloadImage(`${storage.origin}/big.png`, optionsFor("http://127.0.0.1:1"));
    expect(image).toEqual({ ok: false, reason: "22.0 MB, over the 5 MB limit" });
    expect(await closed.promise).toBe(false);
  });

  it("refuses what is not an image, and stops reading it at its first bytes", async () => {
    const streamed = signal<Streamed>();
    const page = Buffer.from("<!doctype html><html><body>Sign in</body></html>");
    const github = await startServer((_request, response) => void streamBody(response, page, 20 * MB, { "content-type": "text/html; charset=utf-8" }).then(streamed.settle));
    const image = await downloadImage(`${github.origin}/user-attachments/assets/abc`, optionsFor(github.origin));
    expect(image).toEqual({ ok: false, reason: "not an image (text/html)" });
    const server = await streamed.promise;
    expect(server.finished).toBe(false);
  });

  it("refuses SVG and any other image type", async () => {
    const svg = await startServer(serve(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "image/svg+xml"));
    expect(await downloadImage(`${svg.origin}/a.svg`, optionsFor(svg.origin))).toEqual({ ok: false, reason: "not a PNG, JPEG, GIF or WebP image (image/svg+xml)" });
    const bmp = await startServer(serve(Buffer.from("BM\x00\x00\x00\x00"), "image/bmp"));
    expect(await downloadImage(`${bmp.origin}/a.bmp`, optionsFor(bmp.origin))).toEqual({ ok: false, reason: "not a PNG, JPEG, GIF or WebP image (image/bmp)" });
    const empty = await startServer(serve(Buffer.alloc(0), ""));
    expect(await downloadImage(`${empty.origin}/none`, optionsFor(empty.origin))).toEqual({ ok: false, reason: "not an image (no content type)" });
  });

  it("gives a status that is not a success as the reason, saying who answered", async () => {
    const missing = (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("Not Found");
    };
    const github = await startServer(missing);
    expect(await downloadImage(`${github.origin}/user-attachments/assets/abc`, optionsFor(github.origin))).toEqual({ ok: false, reason: "GitHub answered 404" });
    const storage = await startServer(missing);
    expect(await downloadImage(`${storage.origin}/signed`, optionsFor(github.origin))).toEqual({ ok: false, reason: `${new URL(storage.origin).host} answered 404` });
  });

  it("follows at most 3 redirects", async () => {
    const github = await startServer(redirectTo("/loop"));
    const image = await downloadImage(`${github.origin}/user-attachments/assets/abc`, optionsFor(github.origin));
    expect(image).toEqual({ ok: false, reason: "too many redirects" });
    expect(github.seen.map((seen) => seen.path)).toEqual(["/user-attachments/assets/abc", "/loop", "/loop", "/loop"]);
  });

  it.each([
    ["file:///etc/passwd", "led to a file: address, not https"],
    ["ftp://objects.example/a.png", "led to a ftp: address, not https"],
    ["http://objects.example/a.png", "led to a http: address, not https"],
    ["https://user:secret@objects.example/a.png", "led to an address with a user name in it"],
  ])("refuses a redirect to %s", async (location, reason) => {
    const requested: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      requested.push(String(input));
      return new Response(null, { status: 302, headers: { location } });
    };
    const image = await downloadImage("https://github.com/user-attachments/assets/abc", optionsFor("https://github.com", { fetch: fakeFetch }));
    expect(image).toEqual({ ok: false, reason });
    expect(requested).toEqual(["https://github.com/user-attachments/assets/abc"]);
  });

  it("refuses a link that is not https when GitHub is, without a request", async () => {
    const requested: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      requested.push(String(input));
      return new Response(PNG);
    };
    const image = await downloadImage("http://github.com/user-attachments/assets/abc", optionsFor("https://github.com", { fetch: fakeFetch }));
    expect(image).toEqual({ ok: false, reason: "led to a http: address, not https" });
    expect(requested).toEqual([]);
  });

  it("times out on a server that stops answering, before or during the body", async () => {
    const silent = await startServer(() => undefined);
    expect(await downloadImage(`${silent.origin}/a.png`, optionsFor(silent.origin, { timeoutMs: 100 }))).toEqual({ ok: false, reason: "timed out after 0.1 s" });
    const stalled = await startServer((_request, response) => {
      response.writeHead(200, { "content-type": "image/png" });
      response.write(PNG.subarray(0, 4));
    });
    expect(await downloadImage(`${stalled.origin}/a.png`, optionsFor(stalled.origin, { timeoutMs: 100 }))).toEqual({ ok: false, reason: "timed out after 0.1 s" });
  });

  it("times out on a token that never comes", async () => {
    const github = await startServer(serve(PNG, "image/png"));
    const options = optionsFor(github.origin, { timeoutMs: 100, token: () => new Promise<string>(() => undefined) });
    expect(await downloadImage(`${github.origin}/user-attachments/assets/abc`, options)).toEqual({ ok: false, reason: "timed out after 0.1 s" });
    expect(github.seen).toEqual([]);
  });

  it("never throws: a refused connection is a reason too", async () => {
    const gone = await startServer(() => undefined);
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    const image = await downloadImage(`${gone.origin}/a.png`, optionsFor(gone.origin));
    expect(image).toEqual({ ok: false, reason: expect.stringMatching(/^the download failed: fetch failed \(.*ECONNREFUSED/) });
  });
});

describe("imageTypeOf", () => {
  it("knows PNG, JPEG, GIF and WebP by their first bytes, and nothing else", () => {
    expect(imageTypeOf(PNG)?.extension).toBe("png");
    expect(imageTypeOf(JPEG)?.extension).toBe("jpg");
    expect(imageTypeOf(GIF87)?.extension).toBe("gif");
    expect(imageTypeOf(WEBP)?.extension).toBe("webp");
    for (const bytes of [Buffer.alloc(0), PNG.subarray(0, 7), Buffer.from("GIF88a"), Buffer.from("RIFF\0\0\0\0WAVE"), Buffer.from("<svg></svg>"), Buffer.from("BM")]) {
      expect(imageTypeOf(bytes)).toBeNull();
    }
  });
});
