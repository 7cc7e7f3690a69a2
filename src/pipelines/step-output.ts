import { isRecord, parseJson } from "../json.ts";

/**
 * The structured output a step ends with: the last JSON object in its agent's final
 * reply, fenced (```json … ```) or bare at the end. Pure; null when there is none, which
 * is fine: later steps that name an output then fail with a clear error instead.
 */
export function stepOutputOf(reply: string): Record<string, unknown> | null {
  const fenced = [...reply.matchAll(/```(?:json)?\s*\n([\s\S]*?)\n\s*```/g)].map((match) => match[1]!);
  for (const candidate of fenced.reverse()) {
    const object = parseObject(candidate);
    if (object) return object;
  }
  const start = reply.lastIndexOf("\n{") + 1 || (reply.trimStart().startsWith("{") ? reply.indexOf("{") : -1);
  return start >= 0 ? parseObject(reply.slice(start)) : null;
}

function parseObject(text: string): Record<string, unknown> | null {
  const value = parseJson(text.trim());
  return isRecord(value) ? value : null;
}
