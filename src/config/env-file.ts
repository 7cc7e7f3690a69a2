import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

/**
 * Set `values` in a .env file (as `process.loadEnvFile` reads it), keeping its other lines
 * and comments. The file holds a private key, so only its owner may read it.
 */
export function updateEnvFile(path: string, values: Record<string, string>): void {
  const keys = new Set(Object.keys(values));
  const kept = existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((line) => !keys.has(keyOf(line))) : [];
  while (kept.length > 0 && kept.at(-1)!.trim() === "") kept.pop();
  const lines = [...kept, ...Object.entries(values).map(([key, value]) => `${key}=${quoted(key, value)}`)];
  // Through a new file and a rename: a crash mid-way leaves the old .env, never half a key.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

function keyOf(line: string): string {
  return /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1] ?? "";
}

/** Bare when safe; else double quotes, in which the reader turns `\n` back into a line break and knows no other escape. */
function quoted(key: string, value: string): string {
  if (/^[\w.:/+=@-]*$/.test(value)) return value;
  if (value.includes('"')) throw new Error(`${key}: a value with a double quote cannot be written to .env`);
  return `"${value.replace(/\r?\n/g, "\\n")}"`;
}
