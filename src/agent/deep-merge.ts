/**
 * Deep merge of JSON-like objects, the way opencode merges its own config layers: plain
 * objects merge key by key, anything else (arrays included) is replaced by the override.
 * Neither input is modified.
 */
export type JsonObject = Record<string, unknown>;

export function mergeDeep(base: JsonObject, override: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    // JSON.parse yields own "__proto__" keys; assigning them would change the result's prototype.
    if (key === "__proto__") continue;
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return merged;
}

export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
