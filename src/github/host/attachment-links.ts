/**
 * The images attached to an issue, as links in its text. Pure. The text is untrusted, and
 * the worker fetches what this returns (with its token, on GitHub's origin): so this is where
 * requests to other hosts are refused, by allowing only the few shapes GitHub gives uploads.
 */
import { trimTrailing } from "../../context/trim-trailing.ts";

export interface AttachmentPlace {
  /** `https://github.com`, or a GitHub Enterprise host's origin (no trailing slash). */
  webOrigin: string;
  owner: string;
  repo: string;
}

// Every link counts, whatever surrounds it (`![alt](…)`, `<img src="…">`, bare), so only
// where one starts and ends matters. A fixed prefix then one run of a class: nothing to
// backtrack into, and the next search starts after the run, so linear on any text.
const LINK = /https?:\/\/[^\s)"'<>\]]+/gi;
/** Older uploads: any path (and query, e.g. a private image's `?jwt=`), over https only. */
const USER_CONTENT_ORIGINS = new Set(["https://user-images.githubusercontent.com", "https://private-user-images.githubusercontent.com"]);
/** Far beyond a real upload link (a signed one is under 1 KiB); longer is not one. */
const MAX_LINK_CHARS = 8192;
const ASSET_ID = /^[A-Za-z0-9-]+$/;
const DIGITS = /^[0-9]+$/;

/** The image attachment links in `text`, in order of first appearance, each once. */
export function findAttachmentLinks(text: string, place: AttachmentPlace): string[] {
  const webOrigin = originOf(place.webOrigin);
  if (webOrigin === null) return [];
  const found = new Set<string>();
  for (const match of text.matchAll(LINK)) {
    const link = attachmentLinkOf(trimTrailing(match[0], ".,"), webOrigin, place);
    if (link !== null) found.add(link);
  }
  return [...found];
}

/** Whether the worker may send the installation token with a request to this URL: only to GitHub's own web origin. */
export function isGitHubOrigin(url: string, webOrigin: string): boolean {
  const origin = originOf(url);
  return origin !== null && origin === originOf(webOrigin);
}

/** The link, normalised, when it has an allowed shape; null otherwise. */
function attachmentLinkOf(candidate: string, webOrigin: string, place: AttachmentPlace): string | null {
  if (candidate.length > MAX_LINK_CHARS || hasUserinfo(candidate) || hasDotSegment(candidate)) return null;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.username !== "" || url.password !== "") return null;
  // The fragment never reaches a server; without it, one image linked twice is found once.
  url.hash = "";
  // `origin` holds the port: another port of the same host is another server.
  if (url.origin === webOrigin) return isUploadPath(url.pathname, place) ? url.href : null;
  if (USER_CONTENT_ORIGINS.has(url.origin) && url.pathname.length > 1) return url.href;
  return null;
}

/** The paths GitHub (and GitHub Enterprise Server) gives uploaded files on its web origin. */
function isUploadPath(pathname: string, place: AttachmentPlace): boolean {
  const parts = pathname.split("/");
  const id = parts.at(-1)!;
  if (!ASSET_ID.test(id)) return false;
  if (parts.length === 4) return parts[1] === "user-attachments" && parts[2] === "assets";
  if (parts.length !== 6) return false;
  if (parts[1] === "storage" && parts[2] === "user" && parts[4] === "files") return DIGITS.test(parts[3]!);
  // Another repository's assets would be fetched with this repository's token: never.
  const sameRepository = parts[1]!.toLowerCase() === place.owner.toLowerCase() && parts[2]!.toLowerCase() === place.repo.toLowerCase();
  return sameRepository && parts[3] === "assets" && DIGITS.test(parts[4]!);
}

/**
 * `https://github.com@evil.example/` is evil.example. `new URL` would say so too, but an
 * empty userinfo (`https://@github.com/`) disappears in it: the raw text is what is judged.
 */
function hasUserinfo(candidate: string): boolean {
  const rest = candidate.slice(candidate.indexOf("//") + 2);
  const end = firstIndexOf(rest, "/\\?#");
  return rest.slice(0, end).includes("@");
}

/**
 * `new URL` resolves `..` (and `%2e%2e`), so `/other/x/../../owner/repo/assets/…` would pass
 * as this repository's: a link that plays with its path is refused outright.
 */
function hasDotSegment(candidate: string): boolean {
  const rest = candidate.slice(candidate.indexOf("//") + 2);
  const path = rest.slice(0, firstIndexOf(rest, "?#"));
  return path.split(/[/\\]/).some((segment) => {
    const plain = segment.replace(/%2e/gi, ".");
    return plain === "." || plain === "..";
  });
}

function firstIndexOf(text: string, characters: string): number {
  for (let index = 0; index < text.length; index += 1) if (characters.includes(text[index]!)) return index;
  return text.length;
}

/** The URL's origin; null for none, including the opaque origin of `file:` or `data:` ("null", equal to any other). */
function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}
