/**
 * Which of a provider's endpoints the gateway forwards, and how each is charged. Pure.
 *
 * Only model calls: whoever holds a job's token is code we do not trust, and the real key
 * can do much more than talk to a model (upload, list and delete the account's files,
 * start fine-tuning and batch jobs, manage cached content). Matched on the end of the
 * path, since the version segment and a provider's base path vary (`/v1`, `/v1beta`,
 * `/api/v1`, `/v1beta/openai`).
 */

/**
 * `metered`: priced per token, reserved before and settled after; `free`: the model list
 * and token counting, which providers do not bill; `unmeterable`: a model call whose
 * answer reports no usage, refused with `reason`.
 */
export type ModelEndpoint =
  | { charge: "metered"; api: "chat" | "completions" | "responses" | "embeddings" | "messages" }
  | { charge: "metered"; api: "generate"; model: string }
  | { charge: "free" }
  | { charge: "unmeterable"; reason: string };

const GOOGLE_CALL = /\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$/;

/** The endpoint `method path` is, or null when it is no model call. */
export function modelEndpointOf(method: string | undefined, path: string): ModelEndpoint | null {
  if (method === "GET") return /\/models$/.test(path) || /\/models\/[^/:]+$/.test(path) ? { charge: "free" } : null;
  if (method !== "POST") return null;
  // Azure's deployments and OpenAI's old engines choose the model by the path: the body's model, the one checked, would not be the one run.
  if (/\/(?:deployments|engines)\//.test(path)) return { charge: "unmeterable", reason: "the path chooses the model (deployments, engines), not the body's model the gateway checks" };
  // OpenAI and OpenAI-compatible endpoints (Google and Anthropic offer these too).
  if (path.endsWith("/chat/completions")) return { charge: "metered", api: "chat" };
  if (path.endsWith("/completions")) return { charge: "metered", api: "completions" };
  if (path.endsWith("/responses")) return { charge: "metered", api: "responses" };
  if (path.endsWith("/embeddings")) return { charge: "metered", api: "embeddings" };
  // Anthropic.
  if (path.endsWith("/messages")) return { charge: "metered", api: "messages" };
  if (path.endsWith("/messages/count_tokens")) return { charge: "free" };
  // Google: /v1beta/models/<model>:<method>.
  const google = GOOGLE_CALL.exec(path);
  if (!google) return null;
  const model = google[1]!;
  const call = google[2]!;
  if (call === "countTokens") return { charge: "free" };
  if (call === "embedContent" || call === "batchEmbedContents") return { charge: "unmeterable", reason: `Google's ${call} answers report no usage to charge` };
  return { charge: "metered", api: "generate", model };
}

export function isModelEndpoint(method: string | undefined, path: string): boolean {
  return modelEndpointOf(method, path) !== null;
}
