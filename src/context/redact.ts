/**
 * Removing secrets from text before it is logged, stored as an event, or posted to GitHub.
 * Two layers: the exact secrets a job knows (its installation token, API keys), in every
 * encoding they are likely to leak in; and well-known token shapes, for secrets we were
 * never told about. Use both: `redactKnownTokens(redact(text))`.
 */

export const REDACTED = "[REDACTED]";

/** Shorter "secrets" would turn ordinary words into [REDACTED] all over the logs. */
const MIN_SECRET_LENGTH = 8;
// git sends the token as HTTP Basic auth: base64("x-access-token:" + token).
const GIT_BASIC_USER = "x-access-token:";
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A function that replaces each secret (8+ characters) and its encoded forms with [REDACTED]. */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of encodedFormsOf(secret)) forms.add(form);
  }
  if (forms.size === 0) return (text) => text;
  // Longest first: at one position the regex takes the first alternative that matches,
  // and a whole Basic-auth value must win over the token fragment inside it.
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(alternatives.join("|"), "g");
  return (text) => text.replace(pattern, REDACTED);
}

function encodedFormsOf(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms = [secret, ...base64FormsOf(Buffer.from(GIT_BASIC_USER + secret, "utf8")), ...base64FormsOf(bytes)];
  // A secret inside a longer base64 value (Basic auth with another user name, a JSON blob)
  // is encoded differently for each of the three byte alignments; redact the characters that
  // depend on the secret's bytes alone.
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    forms.push(core, toBase64Url(core));
  }
  if (!LONE_SURROGATE.test(secret)) forms.push(encodeURIComponent(secret), encodeURI(secret));
  return forms.filter((form) => form.length >= MIN_SECRET_LENGTH);
}

function base64FormsOf(bytes: Buffer): string[] {
  const padded = bytes.toString("base64");
  return [padded, toBase64Url(padded), padded.replace(/=+$/, ""), toBase64Url(padded).replace(/=+$/, "")];
}

function toBase64Url(base64: string): string {
  return base64.replace(/\+/g, "-").replace(/\//g, "_");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const KNOWN_TOKENS: ReadonlyArray<readonly [RegExp, string]> = [
  // An unterminated key (cut-off log) is redacted as far as its base64 body goes.
  [
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\:,.-]*)/g,
    REDACTED,
  ],
  [/(gh[pousr]_)[A-Za-z0-9]{36,}/g, `$1${REDACTED}`],
  [/github_pat_[A-Za-z0-9_]{22,}/g, `github_pat_${REDACTED}`],
  [/(x-access-token:)[^@\s/]+(?=@)/g, `$1${REDACTED}`],
  // Any password in a URL's user-info: https://user:password@host.
  [/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:@/]+:)[^\s@/]+(?=@)/g, `$1${REDACTED}`],
  // Header lines, git's `http.extraheader=AUTHORIZATION: basic …`, and JSON-ish forms.
  [/((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:basic|bearer|token)\s+)[^\s"',;]+/gi, `$1${REDACTED}`],
  // OpenAI and Anthropic keys; not inside words such as "risk-assessment-…".
  [/(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}/g, `sk-${REDACTED}`],
  [/AIza[0-9A-Za-z_-]{35}/g, REDACTED],
  // The model gateway's job tokens (src/gateway); a cut-off one too, not words like `drag_and_drop`.
  [/(?<![A-Za-z0-9_-])rag_[A-Za-z0-9_-]{16,}/g, `rag_${REDACTED}`],
  // API keys in the headers the model SDKs send them in (Probot logs request headers).
  [/((?:x-api-key|x-goog-api-key)["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, `$1${REDACTED}`],
];

/** Text with GitHub tokens, private keys, credentials in URLs and headers, and model API keys replaced. */
export function redactKnownTokens(text: string): string {
  let result = text;
  for (const [pattern, replacement] of KNOWN_TOKENS) result = result.replace(pattern, replacement);
  return result;
}
