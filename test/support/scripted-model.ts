import type { ModelServer } from "../fakes/model-server.ts";

/** App env that points every agent at the scripted model server through AGENT_OPENCODE_CONFIG. */
export function scriptedModelEnv(model: ModelServer): Record<string, string> {
  const provider = {
    scripted: {
      npm: "@ai-sdk/openai-compatible",
      name: "Scripted",
      options: { baseURL: model.baseUrl, apiKey: "scripted-model-key-not-a-secret" },
      models: { m: { name: "m", tool_call: true, limit: { context: 128_000, output: 8_192 }, cost: { input: 1, output: 2 } } },
    },
  };
  return {
    AGENT_OPENCODE_CONFIG: JSON.stringify({ provider }),
    AGENT_MODEL_EXPLORE: "scripted/m",
    AGENT_MODEL_PLAN: "scripted/m",
    AGENT_MODEL_BUILD: "scripted/m",
  };
}
