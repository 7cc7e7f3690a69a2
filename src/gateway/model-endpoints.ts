/**
 * Which of a provider's endpoints the gateway forwards. Pure.
 *
 * Only model calls: whoever holds a job's token is code we do not trust, and the real key
 * can do much more than talk to a model (upload, list and delete the account's files,
 * start fine-tuning and batch jobs, manage cached content). Matched on the end of the
 * path, since the version segment and a provider's base path vary (`/v1`, `/v1beta`,
 * `/api/v1`, `/v1beta/openai`).
 */
const modelCalls: ReadonlyArray<RegExp> = [
  // OpenAI and OpenAI-compatible endpoints (Google and Anthropic offer these too).
  /\/chat\/completions$/,
  /\/completions$/,
  /\/responses$/,
  /\/embeddings$/,
  // Anthropic.
  /\/messages$/,
  /\/messages\/count_tokens$/,
  // Google: /v1beta/models/<model>:<method>.
  /\/models\/[^/]+:(?:generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$/,
];

/** The model list, which SDKs may read; nothing else is read through the gateway. */
const modelLists: ReadonlyArray<RegExp> = [/\/models$/, /\/models\/[^/:]+$/];

export function isModelEndpoint(method: string | undefined, path: string): boolean {
  if (method === "POST") return modelCalls.some((pattern) => pattern.test(path));
  if (method === "GET") return modelLists.some((pattern) => pattern.test(path));
  return false;
}
