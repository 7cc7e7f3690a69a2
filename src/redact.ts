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

/** One kind of secret found and replaced. */
type Redaction = (text: string) => string;

const replacing =
  (pattern: RegExp, replacement: string): Redaction =>
  (text) =>
    text.replace(pattern, replacement);

// Every pattern here runs on text others wrote (command output, comments, logs). Each is
// linear in it; three that were not are replaced by the functions below, with the same
// result: those took seconds on a few hundred KB shaped to hurt.
const KNOWN_TOKENS: readonly Redaction[] = [
  // An unterminated key (cut-off log) is redacted as far as its base64 body goes.
  redactPrivateKeys,
  replacing(/(gh[pousr]_)[A-Za-z0-9]{36,}/g, `$1${REDACTED}`),
  replacing(/github_pat_[A-Za-z0-9_]{22,}/g, `github_pat_${REDACTED}`),
  redactAccessTokenUsers,
  // Any password in a URL's user-info: https://user:password@host.
  redactUrlPasswords,
  // Header lines, git's `http.extraheader=AUTHORIZATION: basic …`, and JSON-ish forms.
  replacing(/((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:basic|bearer|token)\s+)[^\s"',;]+/gi, `$1${REDACTED}`),
  // OpenAI and Anthropic keys; not inside words such as "risk-assessment-…".
  replacing(/(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}/g, `sk-${REDACTED}`),
  replacing(/AIza[0-9A-Za-z_-]{35}/g, REDACTED),
  // The model gateway's job tokens (src/gateway); a cut-off one too, not words like `drag_and_drop`.
  replacing(/(?<![A-Za-z0-9_-])rag_[A-Za-z0-9_-]{16,}/g, `rag_${REDACTED}`),
  // API keys in the headers the model SDKs send them in (Probot logs request headers).
  replacing(/((?:x-api-key|x-goog-api-key)["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, `$1${REDACTED}`),
];

/** Text with GitHub tokens, private keys, credentials in URLs and headers, and model API keys replaced. */
export function redactKnownTokens(text: string): string {
  let result = text;
  for (const redact of KNOWN_TOKENS) result = redact(result);
  return result;
}

const KEY_HEADER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/y;
const KEY_FOOTER = /-----END [A-Z0-9 ]*PRIVATE KEY-----/y;
const KEY_BODY = /[A-Za-z0-9+/=\s\\:,.-]*/y;

/**
 * Private key blocks, as `/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\:,.-]*)/g`
 * replaced them: up to the first footer after the header, else as far as the base64 body
 * goes. That pattern looked for a footer from every header to the end of the text; the
 * footers are found once here.
 */
function redactPrivateKeys(text: string): string {
  const footers = footersIn(text);
  let next = 0;
  let result = "";
  let copied = 0;
  for (let at = text.indexOf("-----BEGIN "); at !== -1; ) {
    const headerEnd = stickyEnd(KEY_HEADER, text, at);
    if (headerEnd === -1) {
      at = text.indexOf("-----BEGIN ", at + 1);
      continue;
    }
    while (next < footers.length && footers[next]!.start < headerEnd) next += 1;
    const end = next < footers.length ? footers[next]!.end : stickyEnd(KEY_BODY, text, headerEnd);
    result += text.slice(copied, at) + REDACTED;
    copied = end;
    at = text.indexOf("-----BEGIN ", end);
  }
  return copied === 0 ? text : result + text.slice(copied);
}

/** Every place a footer matches, overlapping ones included, in order. */
function footersIn(text: string): Array<{ start: number; end: number }> {
  const footers: Array<{ start: number; end: number }> = [];
  for (let at = text.indexOf("-----END "); at !== -1; at = text.indexOf("-----END ", at + 1)) {
    const end = stickyEnd(KEY_FOOTER, text, at);
    if (end !== -1) footers.push({ start: at, end });
  }
  return footers;
}

/** Where a sticky `pattern` matched at `at` ends, or -1. */
function stickyEnd(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : -1;
}

const GIT_BASIC_USER_RUN = /x-access-token:[^@\s/]*/g;

/**
 * `x-access-token:TOKEN@` (git's user in a clone URL), as `/(x-access-token:)[^@\s/]+(?=@)/g`
 * replaced it. That pattern read the rest of a run again from every `x-access-token:` in
 * it; here a run is read once: when it is not followed by `@`, no start inside it is.
 */
function redactAccessTokenUsers(text: string): string {
  return text.replace(GIT_BASIC_USER_RUN, (run: string, offset: number) =>
    run.length > GIT_BASIC_USER.length && text[offset + run.length] === "@" ? GIT_BASIC_USER + REDACTED : run,
  );
}

// Tried only where a run of scheme characters starts; the scheme's first letter is found in the run.
const URL_CREDENTIALS = /(?<![A-Za-z0-9+.-])([A-Za-z0-9+.-]+)(:\/\/[^\s:@/]+:)[^\s@/]+(?=@)/g;

/**
 * `scheme://user:PASSWORD@`, as `/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:@/]+:)[^\s@/]+(?=@)/g`
 * replaced it. That pattern started at every word boundary of a run such as `a.a.a.a…`
 * and read the run to its end each time. Every start inside one run shares what follows
 * the run, so the run is read once and the pattern's first start in it looked up.
 */
function redactUrlPasswords(text: string): string {
  return text.replace(URL_CREDENTIALS, (match: string, run: string, user: string, offset: number) =>
    schemeStartIn(run, text[offset - 1]) === -1 ? match : match.slice(0, run.length + user.length) + REDACTED,
  );
}

/** The first letter of `run` that follows no word character (`\b[A-Za-z]`), or -1. */
function schemeStartIn(run: string, before: string | undefined): number {
  for (let at = 0; at < run.length; at += 1) {
    const previous = at === 0 ? before : run[at - 1];
    if (/[A-Za-z]/.test(run[at]!) && !/\w/.test(previous ?? "")) return at;
  }
  return -1;
}
