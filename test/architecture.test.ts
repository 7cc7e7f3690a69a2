import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The rooms of src/ depend one way: no two folders import each other, however long the
 * way round (type imports and dynamic `import()` count). The linter (eslint.config.js)
 * says which room may import which; this keeps the whole graph free of cycles, which no
 * per-file rule can see. A file directly in src/ is a node of its own: the shared leaves
 * and the composition root sit at opposite ends.
 */
const SRC = path.resolve(import.meta.dirname, "../src");

interface Edge {
  from: string;
  to: string;
  /** One import that makes the edge, for the message. */
  example: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** The folder a file belongs to, relative to src/; a file directly in src/ is its own node. */
function roomOf(file: string): string {
  const relative = path.relative(SRC, file);
  const folder = path.dirname(relative);
  return folder === "." ? relative : folder;
}

/** Every import between two rooms, from the files as TypeScript reads them. */
function roomEdges(files: readonly string[]): Edge[] {
  const edges = new Map<string, Edge>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = path.resolve(path.dirname(file), fileName);
      const [from, to] = [roomOf(file), roomOf(target)];
      if (from === to || edges.has(`${from} → ${to}`)) continue;
      edges.set(`${from} → ${to}`, { from, to, example: `${path.relative(SRC, file)} imports ${fileName}` });
    }
  }
  return [...edges.values()];
}

/** Each cycle between rooms once, as the edges that make it (depth-first search). */
function cyclesOf(edges: readonly Edge[]): Edge[][] {
  const out = new Map<string, Edge[]>();
  for (const edge of edges) out.set(edge.from, [...(out.get(edge.from) ?? []), edge]);
  const cycles: Edge[][] = [];
  const done = new Set<string>();
  const walk = (room: string, trail: Edge[], onTrail: Set<string>): void => {
    for (const edge of out.get(room) ?? []) {
      if (onTrail.has(edge.to)) {
        const start = trail.findIndex((step) => step.from === edge.to);
        cycles.push([...trail.slice(start === -1 ? trail.length : start), edge]);
      } else if (!done.has(edge.to)) {
        walk(edge.to, [...trail, edge], new Set([...onTrail, edge.to]));
      }
    }
    done.add(room);
  };
  for (const room of out.keys()) if (!done.has(room)) walk(room, [], new Set([room]));
  return cycles;
}

describe("the rooms of src/", () => {
  it("import each other one way only: no cycle between folders", () => {
    const edges = roomEdges(sourceFiles(SRC));
    // The walk sees the code: a src/ it could not read would pass for a clean one.
    expect(edges.length).toBeGreaterThan(50);
    const cycles = cyclesOf(edges).map((cycle) => cycle.map((edge) => `${edge.from} → ${edge.to} (${edge.example})`).join("\n  "));
    expect(cycles, `rooms that import each other; move the code so that one side does not need the other:\n${cycles.join("\n\n")}`).toEqual([]);
  });

  it("finds a cycle however long the way round, type imports and dynamic imports included", () => {
    const files = { "src/a/one.ts": 'import type { T } from "../b/two.ts";', "src/b/two.ts": 'export const load = () => import("../c/three.ts");', "src/c/three.ts": 'export { x } from "../a/one.ts";' };
    const edges = [...Object.entries(files)].flatMap(([file, text]) =>
      ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) => ({ from: path.dirname(file).slice(4), to: path.dirname(path.join(path.dirname(file), fileName)).slice(4), example: file })),
    );
    expect(cyclesOf(edges).map((cycle) => cycle.map((edge) => edge.from))).toEqual([["a", "b", "c"]]);
    expect(cyclesOf(edges.slice(0, 2))).toEqual([]);
  });
});
