/**
 * One image attached to an issue, downloaded for the agent. GitHub answers an attachment
 * link on its web origin (which needs the installation token for a private repository)
 * with a redirect to signed storage elsewhere: redirects are followed here, by hand, so the
 * token goes to GitHub's origin and never further. The size and type are judged on what
 * arrives, never on what the issue or the server claims.
 */
import { isGitHubOrigin } from "./attachment-links.ts";

export type ImageType = { mediaType: "image/png" | "image/jpeg" | "image/gif" | "image/webp"; extension: "png" | "jpg" | "gif" | "webp" };
export type DownloadedImage = ({ ok: true; bytes: Buffer } & ImageType) | { ok: false; reason: string };

export interface DownloadOptions {
  /** `https://github.com` or a GitHub Enterprise host's origin: the only place the token is sent. */
  webOrigin: string;
  /** The installation token, sent only to requests on webOrigin (GitHub answers those with a redirect to signed storage). */
  token: () => Promise<string>;
  /** The largest image taken, in bytes. */
  maxBytes: number;
  /** For the whole download, redirects and body included; 30 s when not given. */
  timeoutMs?: number;
  /** globalThis.fetch when not given. */
  fetch?: typeof fetch;
}

type Refusal = { ok: false; reason: string };

const MAX_REDIRECTS = 3;
const DEFAULT_TIMEOUT_MS = 30_000;
const MEGABYTE = 1024 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Enough to tell every accepted type apart: WebP's mark ends at byte 12. */
const SNIFF_BYTES = 12;

/** Never throws: every failure is a reason in plain words ("22.0 MB, over the 5 MB limit", "not an image (text/html)", "GitHub answered 404", "too many redirects", "timed out after 30 s"). */
export async function downloadImage(url: string, options: DownloadOptions): Promise<DownloadedImage> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  const timedOut = new Error("timed out");
  const timer = setTimeout(() => controller.abort(timedOut), timeoutMs);
  try {
    const answer = await fetchFollowingRedirects(url, options, controller.signal);
    if (!answer.ok) return answer;
    return await readImage(answer.response, answer.where, options.maxBytes, controller.signal);
  } catch (error) {
    if (controller.signal.reason === timedOut) return refuse(`timed out after ${timeoutMs / 1000} s`);
    return refuse(`the download failed: ${describeError(error)}`);
  } finally {
    clearTimeout(timer);
    // Closes whatever a refusal left open (an unread redirect or image body) with its connection.
    controller.abort();
  }
}

/** The image's type by its first bytes; null for anything else, SVG included (it can carry script). */
export function imageTypeOf(bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mediaType: "image/png", extension: "png" };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { mediaType: "image/jpeg", extension: "jpg" };
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return { mediaType: "image/gif", extension: "gif" };
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes.subarray(8), ascii("WEBP"))) return { mediaType: "image/webp", extension: "webp" };
  return null;
}

/** The first answer that is not a redirect, and who gave it ("GitHub" or a host). */
async function fetchFollowingRedirects(url: string, options: DownloadOptions, signal: AbortSignal): Promise<{ ok: true; response: Response; where: string } | Refusal> {
  const fetchOnce = options.fetch ?? globalThis.fetch;
  let token: string | undefined;
  let target = checkTarget(url, url, options.webOrigin);
  for (let redirects = 0; target.ok; redirects += 1) {
    const onGitHub = isGitHubOrigin(target.url, options.webOrigin);
    const headers: Record<string, string> = {};
    if (onGitHub) {
      token ??= await untilAborted(options.token(), signal);
      headers.authorization = `Bearer ${token}`;
    }
    const response = await untilAborted(fetchOnce(target.url, { redirect: "manual", headers, signal }), signal);
    const where = onGitHub ? "GitHub" : new URL(target.url).host;
    if (!REDIRECT_STATUSES.has(response.status)) return { ok: true, response, where };
    discard(response.body);
    if (redirects === MAX_REDIRECTS) return refuse("too many redirects");
    const location = response.headers.get("location");
    if (location === null) return refuse(`${where} answered ${response.status} without a location`);
    target = checkTarget(location, target.url, options.webOrigin);
  }
  return target;
}

/**
 * Where a link or redirect may lead: https, or the web origin's own protocol (an Enterprise
 * host, or a test, over http). Never `file:`, never `ftp:`, never a name and password.
 * The URL itself stays out of the reason: a signed one holds a credential of its own.
 */
function checkTarget(location: string, base: string, webOrigin: string): { ok: true; url: string } | Refusal {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    return refuse("led to an address that is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== new URL(webOrigin).protocol) return refuse(`led to a ${url.protocol} address, not https`);
  if (url.username !== "" || url.password !== "") return refuse("led to an address with a user name in it");
  return { ok: true, url: url.href };
}

/** The body, while it stays within `maxBytes` and starts like an image: reading stops at the first byte that says otherwise. */
async function readImage(response: Response, where: string, maxBytes: number, signal: AbortSignal): Promise<DownloadedImage> {
  if (!response.ok) return refuse(`${where} answered ${response.status}`);
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > maxBytes) return refuse(`${megabytes(declared)} MB, over the ${limitOf(maxBytes)} MB limit`);
  if (response.body === null) return notAnImage(response);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await untilAborted(reader.read(), signal);
    if (done) break;
    chunks.push(value);
    const before = size;
    size += value.byteLength;
    if (size > maxBytes) {
      discard(reader);
      return refuse(`stopped at ${megabytes(size)} MB, over the ${limitOf(maxBytes)} MB limit`);
    }
    if (before < SNIFF_BYTES && size >= SNIFF_BYTES && imageTypeOf(Buffer.concat(chunks)) === null) {
      discard(reader);
      return notAnImage(response);
    }
  }
  const bytes = Buffer.concat(chunks, size);
  const type = imageTypeOf(bytes);
  return type === null ? notAnImage(response) : { ok: true, bytes, ...type };
}

/** What the server said it was, as a bare media type: its header is untrusted text headed for GitHub. */
function notAnImage(response: Response): Refusal {
  const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase().slice(0, 80).replace(/[^a-z0-9!#$&^_.+/-]/g, "");
  if (mediaType.startsWith("image/")) return refuse(`not a PNG, JPEG, GIF or WebP image (${mediaType})`);
  return refuse(`not an image (${mediaType || "no content type"})`);
}

/**
 * `promise`, or the signal's reason once it aborts: the deadline holds even for a token
 * source, or a `fetch`, that does not listen to the signal.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    // Handled even when the abort came first, so a late failure is never an unhandled rejection.
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Stops a body without waiting on the other side; the download's abort closes the rest. */
function discard(body: { cancel(): Promise<void> } | null): void {
  body?.cancel().catch(() => undefined);
}

function refuse(reason: string): Refusal {
  return { ok: false, reason };
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch says only "fetch failed"; what failed (ECONNREFUSED, a TLS error) is its cause.
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

function megabytes(bytes: number): string {
  return (bytes / MEGABYTE).toFixed(1);
}

function limitOf(maxBytes: number): string {
  const limit = maxBytes / MEGABYTE;
  return Number.isInteger(limit) ? String(limit) : limit.toFixed(1);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);
}

function ascii(text: string): number[] {
  return [...text].map((character) => character.charCodeAt(0));
}
