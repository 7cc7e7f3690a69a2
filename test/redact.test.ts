import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRedactor, REDACTED, redactKnownTokens } from "../src/redact.ts";
import { expectLinearTime } from "./support/linear-time.ts";

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

/** Every secret a reader could recover by base64-decoding runs of base64 characters at any alignment. */
function decodedBase64Runs(text: string): Buffer[] {
  const runs = text.match(/[A-Za-z0-9+/]{4,}/g) ?? [];
  return runs.flatMap((run) => [0, 1, 2, 3].map((shift) => Buffer.from(run.slice(shift, shift + Math.floor((run.length - shift) / 4) * 4), "base64")));
}

const surrounding = fc.string({ maxLength: 30 });
const separator = fc.constantFrom(" ", "\n", "\t", ": ", " '", '"');
const tokenCharacters = fc.stringMatching(/^[A-Za-z0-9_\-.~!$%&*+=:;,/?]{8,40}$/);

describe("createRedactor", () => {
  it("replaces the secret, its base64 forms and its URL-encoded form", () => {
    const redact = createRedactor([TOKEN, "p@ss word/with+symbols"]);
    expect(redact(`token=${TOKEN}.`)).toBe(`token=${REDACTED}.`);
    expect(redact(`x ${base64(TOKEN)} y`)).toBe(`x ${REDACTED} y`);
    expect(redact(`https://u:${encodeURIComponent("p@ss word/with+symbols")}@h`)).toBe(`https://u:${REDACTED}@h`);
  });

  it("replaces git's Basic auth header value whole", () => {
    const redact = createRedactor([TOKEN]);
    const command = `git -c http.extraheader="AUTHORIZATION: basic ${base64(`x-access-token:${TOKEN}`)}" fetch origin`;
    expect(redact(command)).toBe(`git -c http.extraheader="AUTHORIZATION: basic ${REDACTED}" fetch origin`);
  });

  it("hides the secret inside base64 with any user name or surrounding bytes", () => {
    const redact = createRedactor([TOKEN]);
    for (const user of ["", "a:", "ab:", "oauth2:", "someone-else:"]) {
      const out = redact(`Basic ${base64(`${user}${TOKEN}\n{"more":1}`)}`);
      expect(out).toContain(REDACTED);
      for (const decoded of decodedBase64Runs(out)) expect(decoded.includes(TOKEN)).toBe(false);
    }
  });

  it("ignores secrets shorter than 8 characters and empty lists", () => {
    expect(createRedactor(["abc", "", "1234567"])("abc 1234567 text")).toBe("abc 1234567 text");
    expect(createRedactor([])("anything")).toBe("anything");
  });

  it("never leaves a secret, in any form, in arbitrary text", () => {
    const secret = fc.oneof(tokenCharacters, fc.string({ minLength: 8, maxLength: 30, unit: "grapheme" }));
    const leak = fc.tuple(secret, fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), fc.integer({ min: 0, max: 3 })).map(
      ([value, user, tail, form]) => {
        const encoded = [value, base64(value), base64(`x-access-token:${value}`), base64(`${user}:${value}${tail}`)][form];
        return { value, encoded };
      },
    );
    fc.assert(
      fc.property(fc.array(secret, { maxLength: 2 }), leak, surrounding, separator, surrounding, (others, { value, encoded }, before, sep, after) => {
        const out = createRedactor([...others, value])(`${before}${sep}${encoded}${sep}${after}`);
        expect(out).not.toContain(value);
        for (const decoded of decodedBase64Runs(out)) expect(decoded.includes(Buffer.from(value))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("leaves text without the secrets unchanged", () => {
    fc.assert(
      fc.property(fc.array(tokenCharacters, { maxLength: 3 }), fc.string({ maxLength: 200 }), (secrets, text) => {
        fc.pre(secrets.every((secret) => !text.includes(secret)));
        expect(createRedactor(secrets)(text)).toBe(text);
      }),
    );
  });
});

describe("redactKnownTokens", () => {
  it("replaces GitHub tokens, keeping the kind", () => {
    expect(redactKnownTokens(`push failed with ${TOKEN}!`)).toBe(`push failed with ghs_${REDACTED}!`);
    expect(redactKnownTokens("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz")).toBe(`github_pat_${REDACTED}`);
  });

  it("replaces private key blocks, whole or cut off", () => {
    const key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcd+/==\n-----END RSA PRIVATE KEY-----";
    expect(redactKnownTokens(`before\n${key}\nafter`)).toBe(`before\n${REDACTED}\nafter`);
    expect(redactKnownTokens(JSON.stringify({ key }))).toBe(`{"key":"${REDACTED}"}`);
    expect(redactKnownTokens("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0B (truncated)")).toBe(`${REDACTED}(truncated)`);
  });

  it("replaces credentials in URLs and Authorization headers", () => {
    expect(redactKnownTokens("fatal: unable to access 'https://x-access-token:abc123secret@github.com/o/r.git/'")).toBe(
      `fatal: unable to access 'https://x-access-token:${REDACTED}@github.com/o/r.git/'`,
    );
    expect(redactKnownTokens("remote: x-access-token:v1.abc@github.com")).toBe(`remote: x-access-token:${REDACTED}@github.com`);
    expect(redactKnownTokens("postgres://app:hunter22@db:5432/app")).toBe(`postgres://app:${REDACTED}@db:5432/app`);
    expect(redactKnownTokens("Authorization: Bearer abc.def-ghi\nnext")).toBe(`Authorization: Bearer ${REDACTED}\nnext`);
    expect(redactKnownTokens('{"authorization":"token abcdef1234"}')).toBe(`{"authorization":"token ${REDACTED}"}`);
    expect(redactKnownTokens("http.extraheader=AUTHORIZATION: basic eC1hY2Nlc3M=")).toBe(`http.extraheader=AUTHORIZATION: basic ${REDACTED}`);
  });

  it("replaces model API keys", () => {
    expect(redactKnownTokens("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx")).toBe(`OPENAI_API_KEY=sk-${REDACTED}`);
    expect(redactKnownTokens("key=AIzaSyA1234567890abcdefghijklmnopqrstuv")).toBe(`key=${REDACTED}`);
    expect(redactKnownTokens("apiKey: rag_0123456789abcdefABCDEF_-xyz")).toBe(`apiKey: rag_${REDACTED}`);
    expect(redactKnownTokens('{"x-goog-api-key":"the-real-key-123"}')).toBe(`{"x-goog-api-key":"${REDACTED}"}`);
    expect(redactKnownTokens("drag_and_drop rag_doll")).toBe("drag_and_drop rag_doll");
  });

  it("leaves ordinary log text alone", () => {
    const text = [
      "Cloning into 'repo'... https://github.com/octo/repo.git",
      "ghp_short and sk-short are not tokens",
      "see risk-assessment-for-the-whole-project-plan.md",
      "Authorization header missing",
      "-----BEGIN PUBLIC KEY-----",
      "FAIL src/a.test.ts > adds numbers: expected 3, received 4",
    ].join("\n");
    expect(redactKnownTokens(text)).toBe(text);
  });

  it("never leaves a generated token in arbitrary text", () => {
    const body = (pattern: RegExp) => fc.stringMatching(pattern);
    const token = fc.oneof(
      fc.tuple(fc.constantFrom("ghs_", "ghp_", "gho_", "ghu_", "ghr_"), body(/^[A-Za-z0-9]{36,60}$/)).map(([p, b]) => ({ shown: `${p}${b}`, secret: b })),
      body(/^[A-Za-z0-9_]{22,60}$/).map((b) => ({ shown: `github_pat_${b}`, secret: b })),
      body(/^[A-Za-z0-9_-]{20,60}$/).map((b) => ({ shown: `sk-${b}`, secret: b })),
      body(/^[A-Za-z0-9_-]{35}$/).map((b) => ({ shown: `AIza${b}`, secret: b })),
      body(/^[A-Za-z0-9_-]{16,43}$/).map((b) => ({ shown: `rag_${b}`, secret: b })),
      fc.tuple(fc.constantFrom("x-api-key: ", "X-Goog-Api-Key: ", '"x-api-key":"'), body(/^[A-Za-z0-9_-]{8,60}$/)).map(([header, b]) => ({ shown: `${header}${b}`, secret: b })),
      body(/^[A-Za-z0-9_.~-]{8,40}$/).map((b) => ({ shown: `https://x-access-token:${b}@github.com/o/r`, secret: b })),
      fc.tuple(fc.constantFrom("Bearer", "token", "Basic", "bearer"), body(/^[A-Za-z0-9+/=._-]{8,60}$/)).map(([kind, b]) => ({
        shown: `Authorization: ${kind} ${b}`,
        secret: b,
      })),
      fc.array(body(/^[A-Za-z0-9+/]{16,64}$/), { minLength: 1, maxLength: 5 }).map((lines) => ({
        shown: `-----BEGIN EC PRIVATE KEY-----\n${lines.join("\n")}\n-----END EC PRIVATE KEY-----`,
        secret: lines.join("\n"),
      })),
    );
    fc.assert(
      fc.property(surrounding, separator, token, separator, surrounding, (before, sepBefore, { shown, secret }, sepAfter, after) => {
        fc.pre(!before.includes(secret) && !after.includes(secret));
        expect(redactKnownTokens(`${before}${sepBefore}${shown}${sepAfter}${after}`)).not.toContain(secret);
      }),
      { numRuns: 1000 },
    );
  });

  it("is idempotent", () => {
    const text = `${TOKEN} https://a:b@c Authorization: Bearer xyz sk-abcdefghijklmnopqrstuvwxyz`;
    expect(redactKnownTokens(redactKnownTokens(text))).toBe(redactKnownTokens(text));
  });
});

describe("redactKnownTokens on text shaped to hurt", () => {
  // The patterns three redactions replaced, as the reference for what they redact: each took
  // seconds on a few hundred KB, so they only ever see short inputs here.
  const byPattern = (pattern: RegExp, replacement: string) => (text: string) => text.replace(pattern, replacement);
  const references = [
    byPattern(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\:,.-]*)/g, REDACTED),
    byPattern(/(x-access-token:)[^@\s/]+(?=@)/g, `$1${REDACTED}`),
    byPattern(/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:@/]+:)[^\s@/]+(?=@)/g, `$1${REDACTED}`),
  ];
  const piece = fc.constantFrom(
    ...["-----BEGIN ", "-----END ", "RSA ", "PRIVATE KEY-----", "KEY-----", "-----", "=", "!", "\n"],
    ...["x-access-token:", "@", "/", " ", "\t", ":", "a", "x-"],
    ...["http", "https://", "://", ".", "+", "-", "_", "1", "u:p@", "\u00e9"],
  );

  it("redacts private keys, git's token user and URL passwords as the patterns did", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 25 }), (pieces) => {
        const text = pieces.join("");
        // The other redactions do not touch these pieces: what is left to compare is these three.
        expect(redactKnownTokens(text)).toBe(references.reduce((result, redact) => redact(result), text));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ["x-access-token: over and over", "x-access-token:"],
    ["a scheme run with a word boundary at every letter", "a."],
    ["URL user-info that never ends in @", "a://b:c"],
    ["private key headers with no footer", "-----BEGIN PRIVATE KEY-----!"],
    ["private key blocks", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----"],
    ["Authorization headers", "authorization: bearer "],
    ["token prefixes", "sk-ghp_github_pat_rag_AIza"],
  ])("takes time linear in the text: %s", (_, unit) => {
    expectLinearTime(redactKnownTokens, (chars) => unit.repeat(Math.ceil(chars / unit.length)));
  });
});
