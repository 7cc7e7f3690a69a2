import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBatch, parseTree } from "../../src/context/repo-map-git.ts";
import { buildRepoMap, describeSymbols, filesToRead, type RepoFile, type RepoMap } from "../../src/context/repo-map.ts";
import { estimateTokens } from "../../src/context/tokens.ts";

/** The map's text read back: full paths of listed files, the "more" counts, the "not mapped" count. */
function readMap(text: string): { listed: string[]; more: number[]; notMapped: number } {
  const [header, ...lines] = text.trimEnd().split("\n");
  expect(header).toMatch(/^Repository map \(\d+ of \d+ files/);
  const listed: string[] = [];
  const more: number[] = [];
  let notMapped = 0;
  const dirs: string[] = [];
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    const body = line.trimStart();
    dirs.length = indent / 2;
    const count = /^… and (\d+) more files? (in|not mapped)/.exec(body);
    if (count?.[2] === "in") more.push(Number(count[1]));
    else if (count) notMapped += Number(count[1]);
    else if (body.endsWith("/")) dirs.push(body.slice(0, -1));
    else listed.push([...dirs, body.split(": ")[0]].join("/"));
  }
  return { listed, more, notMapped };
}

/** The map at the smallest budget that lists at least `count` files: what ranks first. */
function topMap(files: RepoFile[], count: number, focus?: string[]): RepoMap {
  for (let maxTokens = 0; maxTokens < 10_000; maxTokens += 1) {
    const map = buildRepoMap(files, { maxTokens, focus });
    if (map.filesListed >= count) return map;
  }
  throw new Error(`no budget lists ${count} files`);
}
const topFiles = (files: RepoFile[], count: number, focus?: string[]) => readMap(topMap(files, count, focus).text).listed.sort();

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const file = (path: string, content?: string, size = content?.length ?? 100): RepoFile => ({ path, size, content });

describe("buildRepoMap", () => {
  it("renders a tree with each file's symbols and counts what it leaves out", () => {
    const map = buildRepoMap(
      [
        file("package.json"),
        file("README.md"),
        file("src/index.ts", "export function main() {}\nexport class App {}\n"),
        file("src/auth/login.ts", "export async function login() {}\nexport type Session = {};\n"),
        file("node_modules/left-pad/index.js"),
        file("yarn.lock"),
        file("assets/logo.png"),
        file("data/dump.sql", undefined, 10 * 1024 * 1024),
      ],
      { maxTokens: 1000 },
    );
    expect(map.text).toBe(
      [
        `Repository map (4 of 8 files, the most relevant; "…" lines count the rest):`,
        "README.md",
        "package.json",
        "src/",
        "  index.ts: fn main; class App",
        "  auth/",
        "    login.ts: fn login; type Session",
        "… and 4 more files not mapped (vendored or build output: 1, lock file: 1, binary: 1, over 256 KiB: 1)",
        "",
      ].join("\n"),
    );
    expect(map).toMatchObject({ filesListed: 4, filesTotal: 8, truncated: false, tokens: estimateTokens(map.text) });
  });

  it("says how many files each directory has beyond those listed", () => {
    const files = [file("README.md"), ...Array.from({ length: 40 }, (_, i) => file(`src/lib/module${String(i).padStart(2, "0")}.ts`, `export function run${i}() {}\n`))];
    const map = buildRepoMap(files, { maxTokens: 120 });
    expect(map.truncated).toBe(true);
    expect(map.filesListed).toBeGreaterThan(0);
    expect(map.text).toContain(`… and ${40 - (map.filesListed - 1)} more files in src/lib/\n`);
    const read = readMap(map.text);
    expect(read.listed.length + sum(read.more) + read.notMapped).toBe(files.length);
  });

  it("shows a chain of directories with nothing else listed as one line, and counts what the chain leaves out", () => {
    const map = buildRepoMap([file("a/b/c/deep.ts", "export const x = 1;\n"), file("x/y.ts")], { maxTokens: 1000 });
    expect(map.text).toContain("a/b/c/\n  deep.ts: const x\nx/\n  y.ts\n");
    const tight = topMap([file("a/b/c/deep.ts", "export const x = 1;\n"), file("a/b/other.ts"), file("a/x/y.ts")], 1, ["deep"]);
    expect(tight.filesListed).toBe(1);
    expect(tight.text).toContain("\na/b/c/\n  deep.ts: const x\n… and 2 more files in ./\n");
  });

  it("puts the top-level manifests and README first, then files the task's words point to", () => {
    const files = [
      ...Array.from({ length: 30 }, (_, i) => file(`src/feature${i}/handler.ts`, `export function handle${i}() {}\n`)),
      file("src/billing/deep/er/invoice-retry.ts"),
      file("src/payments/processor.ts", "export function chargeCard() {}\nexport class RefundQueue {}\n"),
      file("package.json"),
      file("README.md"),
    ];
    const focus = ["Retry the invoice", "refunds"];
    expect(topFiles(files, 2, focus)).toEqual(["README.md", "package.json"]);
    expect(topFiles(files, 4, focus)).toEqual(["README.md", "package.json", "src/billing/deep/er/invoice-retry.ts", "src/payments/processor.ts"]);
    const unfocused = topFiles(files, 10);
    expect(unfocused).not.toContain("src/billing/deep/er/invoice-retry.ts");
    expect(unfocused).not.toContain("src/payments/processor.ts");
  });

  it("ranks source above tests, and lists generated or vendored files only after all the rest", () => {
    const files = [
      file("third_party/zlib/deflate.c", "int deflate(int level) {\n"),
      file("src/api.pb.go", "func Register() {\n"),
      file("src/server.go", "func Serve() {\n"),
      file("src/server_test.go", "func TestServe() {\n"),
    ];
    const focus = ["deflate", "register"];
    expect(topFiles(files, 1, focus)).toEqual(["src/server.go"]);
    expect(topFiles(files, 2, focus)).toEqual(["src/server.go", "src/server_test.go"]);
    expect(topFiles(files, 3, focus)).toEqual(["src/api.pb.go", "src/server.go", "src/server_test.go", "third_party/zlib/deflate.c"]);
  });

  it("leaves out binary and minified files found by their content", () => {
    const map = buildRepoMap([file("src/blob.ts", "\0\0\0binary"), file("src/bundle.js", "x".repeat(6000)), file("src/ok.ts", "export const ok = 1;\n")], { maxTokens: 1000 });
    expect(map.text).toContain("not mapped (minified: 1, binary: 1)");
    expect(map.filesListed).toBe(1);
  });

  it("shows control characters in names escaped, so that a name cannot add lines to the map", () => {
    const map = buildRepoMap([file("evil\n… and 0 more files in x\nname.ts"), file("dir\twith\ttabs/ok.ts")], { maxTokens: 1000 });
    expect(map.text).toContain("\nevil\\n… and 0 more files in x\\nname.ts\n");
    expect(map.text).toContain("\ndir\\twith\\ttabs/\n  ok.ts\n");
    expect(map.text.split("\n")).toHaveLength(5);
  });

  it("caps a file's symbols and counts the rest", () => {
    const symbols = Array.from({ length: 11 }, (_, i) => ({ kind: i < 3 ? "class" : "fn", name: `s${i}` }));
    expect(describeSymbols(symbols)).toBe("class s0, s1, s2; fn s3, s4, s5, s6, s7; +3 more");
  });

  it("gives the counts alone when the budget cannot hold a single file", () => {
    const map = buildRepoMap([file("src/a.ts"), file("src/b.ts"), file("node_modules/x.js")], { maxTokens: 0 });
    expect(map.text).toBe(`Repository map (0 of 3 files, the most relevant; "…" lines count the rest):\n… and 2 more files in ./\n… and 1 more file not mapped (vendored or build output: 1)\n`);
    expect(map).toMatchObject({ filesListed: 0, truncated: true });
    expect(buildRepoMap([], { maxTokens: Number.NaN }).text).toBe(`Repository map (0 of 0 files, the most relevant; "…" lines count the rest):\n`);
  });

  it("does not depend on the order files come in", () => {
    const files = [file("b/x.ts", "export const b = 1;\n"), file("a/y.py", "def y():\n"), file("a/z.go"), file("README.md"), file("c/d/e.rb", "class E\n")];
    const map = buildRepoMap(files, { maxTokens: 45 });
    expect(buildRepoMap([...files].reverse(), { maxTokens: 45 }).text).toBe(map.text);
  });

  it("keeps the budget, accounts for every file, and lists vendored files only after all source (random trees)", () => {
    const segment = fc.constantFrom("src", "lib", "test", "a", "b", "deep", "node_modules", "third_party", "dist");
    const name = fc.tuple(fc.constantFrom("index", "main", "login", "token", "util", "x", "README", "package"), fc.constantFrom(".ts", ".py", ".go", ".md", ".json", ".png", ".generated.ts", "_test.go", ""));
    const content = fc.option(fc.constantFrom("export function login() {}\n", "def token():\n", "func Main() {}\n", "class X:\n", "\0", "plain text\n"), { nil: undefined });
    const tree = fc.uniqueArray(
      fc.record({ dirs: fc.array(segment, { maxLength: 4 }), name, content, size: fc.integer({ min: 0, max: 300_000 }) }),
      { maxLength: 80, selector: (entry) => [...entry.dirs, entry.name.join("")].join("/") },
    );
    const budget = fc.integer({ min: -10, max: 600 });
    fc.assert(
      fc.property(tree, budget, fc.array(fc.constantFrom("login", "token", "deep", "the", "x"), { maxLength: 3 }), (entries, maxTokens, focus) => {
        const files = entries.map((entry): RepoFile => ({ path: [...entry.dirs, entry.name.join("")].join("/"), size: entry.size, content: entry.content }));
        const map = buildRepoMap(files, { maxTokens, focus });
        const minimal = buildRepoMap(files, { maxTokens: -1 });
        expect(map.tokens).toBe(estimateTokens(map.text));
        expect(map.tokens <= Math.max(0, maxTokens) || map.filesListed === 0).toBe(true);
        expect(map.tokens).toBeLessThanOrEqual(Math.max(maxTokens, minimal.tokens));
        const read = readMap(map.text);
        expect(read.listed).toHaveLength(map.filesListed);
        expect(new Set(read.listed).size).toBe(read.listed.length);
        expect(read.listed.length + sum(read.more) + read.notMapped).toBe(files.length);
        expect(map.truncated).toBe(sum(read.more) > 0);
        // Vendored and generated files come after all the rest: listing one means every other mapped file is listed.
        if (read.listed.some(isLowTier)) {
          const others = files.filter((f) => !isLowTier(f.path) && isMapped(f)).map((f) => f.path);
          expect(read.listed).toEqual(expect.arrayContaining(others));
        }
      }),
      { numRuns: 300 },
    );
  });
});

const isLowTier = (path: string) => path.includes("third_party/") || path.includes(".generated.");

/** Whether the file is mapped at all (not left out as vendored, binary, …), whatever the ranking. */
function isMapped(file: RepoFile): boolean {
  const map = buildRepoMap([file], { maxTokens: 1000 });
  return map.filesListed === 1;
}

describe("filesToRead", () => {
  it("chooses source files in languages with symbols, best first, within a count set by the budget", () => {
    const files = [
      file("README.md"),
      file("vendor/lib.go"),
      file("gen/api.ts"),
      file("src/deep/er/still/util.ts"),
      file("src/main.ts"),
      file("src/huge.ts", undefined, 1024 * 1024),
      ...Array.from({ length: 100 }, (_, i) => file(`lib/m${i}.py`)),
    ];
    const chosen = filesToRead(files, { maxTokens: 100 }).map((f) => f.path);
    expect(chosen).toHaveLength(50);
    expect(chosen[0]).toBe("src/main.ts");
    expect(chosen).not.toContain("README.md");
    expect(chosen).not.toContain("vendor/lib.go");
    expect(chosen).not.toContain("src/huge.ts");
    expect(filesToRead(files, { maxTokens: 8000 }).map((f) => f.path).at(-1)).toBe("gen/api.ts");
    expect(filesToRead(files, { maxTokens: 100, focus: ["utilities"] })[0]!.path).toBe("src/deep/er/still/util.ts");
  });
});

describe("parsing git's output", () => {
  it("reads `ls-tree -r -l -z`, keeping blobs (symlinks too) and leaving out submodules", () => {
    const oid = (c: string) => c.repeat(40);
    const listing = [
      `100644 blob ${oid("a")}      12\tsrc/a b.ts`,
      `160000 commit ${oid("b")}       -\tsubmodule`,
      `100755 blob ${oid("e")}       3\tline\nbreak.sh`,
      `120000 blob ${oid("f")} 1234567\tlink`,
      "",
    ].join("\0");
    expect(parseTree(listing)).toEqual([
      { path: "src/a b.ts", size: 12, objectId: oid("a") },
      { path: "line\nbreak.sh", size: 3, objectId: oid("e") },
      { path: "link", size: 1234567, objectId: oid("f") },
    ]);
    expect(parseTree("")).toEqual([]);
  });

  it("reads `cat-file --batch` by byte lengths, whatever the bytes", () => {
    const oid = (c: string) => c.repeat(40);
    const batch = Buffer.concat([
      Buffer.from(`${oid("a")} blob 6\n`),
      Buffer.from("héllo", "utf8"),
      Buffer.from(`\n${oid("b")} missing\n${oid("c")} blob 3\n`),
      Buffer.from([0xff, 0x0a, 0x41]),
      Buffer.from(`\n`),
    ]);
    const contents = parseBatch(batch);
    expect(contents.get(oid("a"))).toBe("héllo");
    expect(contents.has(oid("b"))).toBe(false);
    expect(contents.get(oid("c"))).toBe("\uFFFD\nA");
  });
});
