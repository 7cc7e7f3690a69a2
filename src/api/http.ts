import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "./caller.ts";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

/** A request header's (first) value. */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Constant-time comparison of the request's bearer token with the configured one. */
export function hasValidBearer(req: IncomingMessage, expected: string | undefined): boolean {
  if (!expected) return false;
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1].trim());
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export class BadRequest extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "BadRequest";
    this.status = status;
  }
}

/** The request's JSON body, at most `maxBytes`; a BadRequest (400, 413) otherwise. */
export async function readJsonBody(req: IncomingMessage, maxBytes = 256 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BadRequest(413, `the body is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new BadRequest(400, "the body is not valid JSON");
  }
}

/** A route's handler, with the path's `:name` parameters and who is asking. */
export type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL, caller: Caller) => Promise<void>;

export interface RouteOptions {
  /** What `:id` is (`/status/:id` → "job"), when the path does not say it (`/api/runs/:id` → "run"). */
  resource?: string;
  /** People signed in with GitHub may use it too: the handler limits them to what they can read and write. Otherwise it takes the API token. */
  people?: boolean;
}

/** Registers a handler for a method and a path (`/api/runs/:id`). */
export type Route = (method: string, path: string, handler: Handler, options?: RouteOptions) => void;

/** A resource's id (jobs, pipelines, runs are keyed by UUIDs); anything else names nothing. */
export const RESOURCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `owner/name`, as the API takes a repository. */
export const REPOSITORY = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

/** 422 with each problem and the path of the field it is about. */
export function sendProblems(res: ServerResponse, error: string, issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>): void {
  sendJson(res, 422, { error, problems: issues.map((issue) => ({ path: issue.path, message: issue.message })) });
}

/** A page of a list route: at most `limit` rows, created before `before`, newest first. */
export interface Page {
  limit: number;
  before: Date | undefined;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
export const LIMIT_RULE = `limit must be an integer from 1 to ${MAX_LIMIT}`;
export const BEFORE_RULE = "before must be an ISO 8601 date-time with a time zone, such as 2026-01-31T12:00:00Z (write a + in an offset as %2B)";
// Bounded quantifiers only, so it runs in linear time on any query string.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

/**
 * `limit` (1 to 200, default 50) and `before` of a list route's query, or a 400 naming
 * the rule: a silent fallback would answer a typo with a page the client did not ask for.
 */
export function readPage(url: URL): Page {
  return { limit: readLimit(url.searchParams.get("limit")), before: readBefore(url.searchParams.get("before")) };
}

function readLimit(text: string | null): number {
  if (text === null) return DEFAULT_LIMIT;
  const limit = /^\d{1,4}$/.test(text) ? Number(text) : 0;
  if (limit < 1 || limit > MAX_LIMIT) throw new BadRequest(400, LIMIT_RULE);
  return limit;
}

function readBefore(text: string | null): Date | undefined {
  if (text === null) return undefined;
  const date = parseDateTime(text);
  if (date === null) throw new BadRequest(400, BEFORE_RULE);
  return date;
}

/** An ISO 8601 date (midnight UTC) or date-time with a time zone; null for anything else, 2026-02-31 included. */
export function parseDateTime(text: string): Date | null {
  const match = ISO_DATE_TIME.exec(text);
  const date = new Date(text);
  if (!match || Number.isNaN(date.getTime()) || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) return null;
  return date;
}

/** Date parsing rolls 2026-02-31 over into March; the API refuses it instead. */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}
