import { describe, expect, it } from "vitest";
import { isModelEndpoint, modelEndpointOf } from "../../src/gateway/model-endpoints.ts";

describe("isModelEndpoint", () => {
  it("lets model calls through, whatever the version segment or base path", () => {
    for (const path of [
      "/v1/chat/completions",
      "/api/v1/chat/completions",
      "/v1beta/openai/chat/completions",
      "/v1/responses",
      "/v1/completions",
      "/v1/embeddings",
      "/v1/messages",
      "/v1/messages/count_tokens",
      "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
      "/v1beta/models/gemini-2.5-flash:generateContent",
      "/v1beta/models/gemini-2.5-flash:countTokens",
      "/v1beta/models/text-embedding-004:batchEmbedContents",
    ]) {
      expect(isModelEndpoint("POST", path), path).toBe(true);
    }
    expect(isModelEndpoint("GET", "/v1/models")).toBe(true);
    expect(isModelEndpoint("GET", "/v1beta/models/gemini-2.5-pro")).toBe(true);
  });

  it("refuses what the real key could do besides: files, fine-tuning, batches, cached content, deletes", () => {
    for (const [method, path] of [
      ["GET", "/v1/files"],
      ["POST", "/v1/files"],
      ["DELETE", "/v1/files/file-abc"],
      ["POST", "/v1/fine_tuning/jobs"],
      ["POST", "/v1/batches"],
      ["POST", "/v1/messages/batches"],
      ["GET", "/v1/responses/resp_1"],
      ["DELETE", "/v1/responses/resp_1"],
      ["POST", "/v1beta/cachedContents"],
      ["POST", "/upload/v1beta/files"],
      ["POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent/extra"],
      ["GET", "/v1/chat/completions"],
      ["PUT", "/v1/messages"],
    ] as const) {
      expect(isModelEndpoint(method, path), `${method} ${path}`).toBe(false);
    }
  });
});

describe("modelEndpointOf", () => {
  it("meters every call priced per token, in the shape its provider speaks", () => {
    expect(modelEndpointOf("POST", "/v1/chat/completions")).toEqual({ charge: "metered", api: "chat" });
    expect(modelEndpointOf("POST", "/v1beta/openai/chat/completions")).toEqual({ charge: "metered", api: "chat" });
    expect(modelEndpointOf("POST", "/v1/completions")).toEqual({ charge: "metered", api: "completions" });
    expect(modelEndpointOf("POST", "/v1/responses")).toEqual({ charge: "metered", api: "responses" });
    expect(modelEndpointOf("POST", "/v1/embeddings")).toEqual({ charge: "metered", api: "embeddings" });
    expect(modelEndpointOf("POST", "/v1/messages")).toEqual({ charge: "metered", api: "messages" });
    expect(modelEndpointOf("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent")).toEqual({ charge: "metered", api: "generate", model: "gemini-2.5-pro" });
    expect(modelEndpointOf("POST", "/v1beta/models/gemini-2.5-flash:generateContent")).toEqual({ charge: "metered", api: "generate", model: "gemini-2.5-flash" });
  });

  it("passes what providers do not bill, and refuses Google's embeddings, whose answers report no usage", () => {
    for (const [method, path] of [["GET", "/v1/models"], ["GET", "/v1beta/models/gemini-2.5-pro"], ["POST", "/v1/messages/count_tokens"], ["POST", "/v1beta/models/gemini-2.5-pro:countTokens"]] as const) {
      expect(modelEndpointOf(method, path), path).toEqual({ charge: "free" });
    }
    expect(modelEndpointOf("POST", "/v1beta/models/text-embedding-004:embedContent")).toMatchObject({ charge: "unmeterable" });
    expect(modelEndpointOf("POST", "/v1beta/models/text-embedding-004:batchEmbedContents")).toMatchObject({ charge: "unmeterable" });
    // The path, not the checked body, would choose the model.
    expect(modelEndpointOf("POST", "/openai/deployments/gpt-4o/chat/completions")).toMatchObject({ charge: "unmeterable" });
    expect(modelEndpointOf("POST", "/v1/engines/davinci/completions")).toMatchObject({ charge: "unmeterable" });
  });
});
