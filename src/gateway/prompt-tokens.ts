/**
 * An upper bound on a request's prompt tokens, from its JSON alone (no tokenizer). Pure.
 *
 * Text: one token per two bytes of the whole serialized body. English and code run three
 * to four bytes a token, CJK about two, and the body's keys and punctuation are counted
 * too; only text chosen to defeat a tokenizer gets closer to one token a byte, and then
 * the settlement charges what the provider reports all the same.
 *
 * Images: their base64 bytes are counted like text, which is far above what any provider
 * charges for a large image; a small one still costs a fixed number of tokens per image
 * (a few hundred to a few thousand, by provider and model), so each counts at least
 * IMAGE_TOKENS. Anything whose size the body does not show is refused, since no bound can
 * be put on it: media by URL or file id, stored items, audio, video and PDFs (priced per
 * second or per page, not per byte).
 */
import { isRecord } from "../json.ts";

export const BYTES_PER_TOKEN = 2;
/** Above every provider's published per-image cost but gpt-4o-mini's largest images'. */
export const IMAGE_TOKENS = 10_000;
/** What a provider adds around the body: message framing, the tool-use system prompt (Anthropic's is a few hundred tokens). */
export const REQUEST_OVERHEAD_TOKENS = 1_000;

export type PromptBound = { tokens: number } | { refusal: string };

export function promptTokensOf(body: unknown): PromptBound {
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(body), "utf8");
  } catch {
    // JSON.parse reads nesting that JSON.stringify then overflows the stack on; such a body cannot be forwarded anyway.
    return { refusal: "the body nests deeper than the gateway can forward" };
  }
  let tokens = Math.ceil(bytes / BYTES_PER_TOKEN) + REQUEST_OVERHEAD_TOKENS;
  // A stack rather than recursion: a body may nest deeper than the call stack goes.
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const node = stack.pop();
    // Pushed one by one: spreading a long array (a prompt of token ids) would overflow the call's arguments.
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (!isRecord(node)) continue;
    const part = mediaPartOf(node);
    if (typeof part === "string") return { refusal: part };
    if (part) tokens += Math.max(0, IMAGE_TOKENS - Math.ceil(part.imageBytes / BYTES_PER_TOKEN));
    for (const value of Object.values(node)) stack.push(value);
  }
  return { tokens };
}

/** An inline image (its data's length), a refusal for media the gateway cannot bound, or null for anything else. */
function mediaPartOf(node: Record<string, unknown>): { imageBytes: number } | string | null {
  // Google: parts are keyed by what they hold, in camelCase or snake_case.
  const inline = node.inlineData ?? node.inline_data;
  if (isRecord(inline)) {
    const mimeType = String(inline.mimeType ?? inline.mime_type ?? "");
    if (mimeType.startsWith("image/")) return { imageBytes: lengthOf(inline.data) };
    if (mimeType.startsWith("text/")) return null;
    return `inline ${mimeType || "data"} is priced by its length, which the gateway cannot bound; send text or images`;
  }
  if (node.fileData !== undefined || node.file_data !== undefined) return "files by reference (fileData) have a size the gateway cannot see; send their content inline";
  switch (node.type) {
    // OpenAI chat completions.
    case "image_url": {
      const url = isRecord(node.image_url) ? node.image_url.url : node.image_url;
      return inlineImageOf(url);
    }
    // OpenAI responses.
    case "input_image":
      return node.file_id !== undefined && node.file_id !== null ? byReference("images") : inlineImageOf(node.image_url);
    // Anthropic.
    case "image":
      if (!isRecord(node.source)) return null;
      return node.source.type === "base64" ? { imageBytes: lengthOf(node.source.data) } : byReference("images");
    case "document":
      if (!isRecord(node.source) || node.source.type === "text" || node.source.type === "content") return null;
      return "documents other than text are priced per page, which the gateway cannot bound; send their text";
    case "input_audio":
    case "audio":
      return "audio is priced per second, which the gateway cannot bound";
    case "file":
    case "input_file":
    case "container_upload":
      return byReference("files");
    case "item_reference":
      return "stored items (item_reference) have a size the gateway cannot see; send them inline (store: false)";
    default:
      return null;
  }
}

function inlineImageOf(url: unknown): { imageBytes: number } | string {
  return typeof url === "string" && url.startsWith("data:") ? { imageBytes: url.length } : byReference("images");
}

function byReference(what: string): string {
  return `${what} by URL or file id have a size the gateway cannot see; send them inline (base64)`;
}

function lengthOf(value: unknown): number {
  return typeof value === "string" ? value.length : 0;
}
