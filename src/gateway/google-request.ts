/**
 * Reading Gemini generateContent and streamGenerateContent requests for metering. Pure.
 *
 * The model is in the path, the output limit in `generationConfig.maxOutputTokens` (it
 * bounds thinking and answer together). Refused: tools other than function declarations
 * (Google Search, code execution, URL context, file search, Maps: billed per use), cached
 * content (a prompt the gateway cannot see), several candidates, and output other than
 * text (priced apart). Google reads snake_case field names too, so the snake_case
 * spellings of the fields checked here are refused rather than let past the checks.
 */
import { isRecord } from "../json.ts";
import { promptTokensOf } from "./prompt-tokens.ts";
import { firstToolNotAllowed, invalidRequest, isRefusal, isUnset, outputLimitOf, serverToolRefusal, unmeterable, type RequestReading } from "./request-fields.ts";

const functionTools = new Set(["functionDeclarations", "function_declarations"]);
const snakeCaseFields = ["generation_config", "cached_content"];
const snakeCaseConfigFields = ["max_output_tokens", "candidate_count", "response_modalities"];

export function readGoogleRequest(model: string, body: Record<string, unknown>): RequestReading {
  const snake = snakeCaseFields.find((field) => Object.hasOwn(body, field));
  if (snake) return invalidRequest(`write ${snake} in camelCase`);
  const config = body.generationConfig ?? {};
  if (!isRecord(config)) return invalidRequest("generationConfig must be an object");
  const snakeConfig = snakeCaseConfigFields.find((field) => Object.hasOwn(config, field));
  if (snakeConfig) return invalidRequest(`write generationConfig.${snakeConfig} in camelCase`);
  const tool = firstToolNotAllowed(body.tools, (candidate) => Object.keys(candidate).every((key) => functionTools.has(key)));
  if (tool) return serverToolRefusal(tool);
  if (!isUnset(body.cachedContent)) return unmeterable("cachedContent brings in a prompt whose size the gateway cannot see; send the whole prompt");
  if (!(isUnset(config.candidateCount) || config.candidateCount === 1)) return unmeterable("candidateCount > 1 asks for several answers at once; send one request per answer");
  const modalities = config.responseModalities;
  if (!(isUnset(modalities) || (Array.isArray(modalities) && modalities.every((one) => String(one).toUpperCase() === "TEXT")))) {
    return unmeterable("image and audio output are priced apart from text");
  }
  const limit = outputLimitOf(config, "maxOutputTokens");
  if (isRefusal(limit)) return limit;
  const prompt = promptTokensOf(body);
  if ("refusal" in prompt) return unmeterable(prompt.refusal);
  return {
    model,
    promptTokens: prompt.tokens,
    maxOutputTokens: limit,
    writesOutput: true,
    withOutputLimit: (tokens) => ({ ...body, generationConfig: { ...config, maxOutputTokens: Math.min(limit ?? tokens, tokens) } }),
  };
}
