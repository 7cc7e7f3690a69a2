import { describe, expect, it } from "vitest";
import { isModelEndpoint } from "../../src/gateway/model-endpoints.ts";

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
