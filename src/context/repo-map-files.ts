/**
 * What kind of file a path is, for the repository map: left out altogether (installed
 * dependencies, build output, lock files, minified or binary files, anything too large to
 * be read as source), ranked last (generated code, vendored copies), a test, or source.
 * Decided from the path and size alone, so the I/O side can rank 50,000 paths before it
 * reads a single file. Pure. (Long for its lists of names, not its logic.)
 */

/** Content larger than this is data or generated, not source worth summarizing. */
export const MAX_MAPPED_BYTES = 256 * 1024;

/** Why a file is not mapped at all, in the order the map reports them. */
export const SKIP_REASONS = ["vendored or build output", "lock file", "minified", "binary", "over 256 KiB"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface FileClass {
  /** Set when the file is not mapped at all. */
  skip?: SkipReason;
  /** Generated or vendored: listed only after every other file. */
  lowTier: boolean;
  test: boolean;
  /** Language whose symbols we can extract, if any. */
  language?: Language;
  /** Depth in the tree: 0 for a top-level file. */
  depth: number;
  /** Directory without trailing slash; "" at the top level. */
  dir: string;
  /** File name without directory. */
  name: string;
  /** Lower-case extension without the dot; "" for none. */
  extension: string;
}

interface DirClass {
  skip?: SkipReason;
  lowTier: boolean;
  test: boolean;
  depth: number;
}

export type Language = "ts" | "python" | "go" | "rust" | "java" | "kotlin" | "ruby" | "c";

const SKIPPED_DIRS = new Set([
  "node_modules",
  "bower_components",
  "jspm_packages",
  "vendor",
  "dist",
  "build",
  ".git",
  ".next",
  ".nuxt",
  ".svelte-kit",
  ".yarn",
  ".venv",
  "venv",
  "__pycache__",
  ".pytest_cache",
  ".mypy_cache",
  ".tox",
  ".gradle",
  "coverage",
]);
const LOW_TIER_DIRS = new Set(["third_party", "third-party", "thirdparty", "external", "extern", "generated", "__generated__", "gen"]);
const TEST_DIRS = new Set(["test", "tests", "__tests__", "spec", "specs", "testdata", "test-data", "fixtures", "__fixtures__", "__mocks__", "e2e", "testing"]);
const LOCK_FILES = new Set([
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lockb",
  "bun.lock",
  "cargo.lock",
  "gemfile.lock",
  "poetry.lock",
  "pipfile.lock",
  "uv.lock",
  "composer.lock",
  "go.sum",
  "flake.lock",
  "packages.lock.json",
  "podfile.lock",
  "mix.lock",
  "pubspec.lock",
]);
const BINARY_EXTENSIONS = new Set(
  (
    "png jpg jpeg gif bmp ico icns webp avif tif tiff psd svgz heic " +
    "mp3 mp4 m4a wav ogg flac webm mov avi mkv " +
    "zip gz tgz bz2 xz zst 7z rar tar jar war ear whl egg nupkg " +
    "woff woff2 ttf otf eot " +
    "pdf doc docx xls xlsx ppt pptx odt " +
    "exe dll so dylib a o obj lib bin dat class pyc pyo wasm node " +
    "sqlite sqlite3 db parquet avro pb onnx pt pth ckpt safetensors h5 npy npz pkl"
  ).split(" "),
);
const LANGUAGES: Record<string, Language> = {
  ts: "ts",
  tsx: "ts",
  mts: "ts",
  cts: "ts",
  js: "ts",
  jsx: "ts",
  mjs: "ts",
  cjs: "ts",
  py: "python",
  pyi: "python",
  go: "go",
  rs: "rust",
  java: "java",
  kt: "kotlin",
  kts: "kotlin",
  rb: "ruby",
  rake: "ruby",
  c: "c",
  h: "c",
  cc: "c",
  cpp: "c",
  cxx: "c",
  hpp: "c",
  hh: "c",
  hxx: "c",
};
const GENERATED_NAME = /(?:\.generated\.|\.gen\.|_generated\.|\.pb\.(?:go|cc|h)$|_pb2(?:_grpc)?\.pyi?$|_pb\.(?:js|ts|d\.ts)$|\.g\.dart$|\.designer\.cs$)/;
const TEST_NAME = /(?:\.(?:test|spec)\.[^.]+$|_test\.(?:go|py|rb|exs?)$|^test_[^/]*\.py$|_spec\.rb$|Tests?\.(?:java|kt)$|(?:^|[-_.])test\.(?:c|cc|cpp)$)/;
const MINIFIED_NAME = /(?:[.-]min\.(?:js|css|mjs)$|\.bundle\.js$|\.(?:js|css)\.map$|\.chunk\.js$)/;

/**
 * A classifier that remembers what it found for each directory: most of the work is in
 * the directory part of the path, and a repository has about ten files per directory.
 */
export function createClassifier(): (path: string, size: number) => FileClass {
  const dirs = new Map<string, DirClass>([["", { lowTier: false, test: false, depth: 0 }]]);
  const classOfDir = (dir: string): DirClass => {
    const known = dirs.get(dir);
    if (known) return known;
    const slash = dir.lastIndexOf("/");
    const parent = classOfDir(slash === -1 ? "" : dir.slice(0, slash));
    const segment = dir.slice(slash + 1).toLowerCase();
    const found: DirClass = {
      skip: parent.skip ?? (SKIPPED_DIRS.has(segment) ? "vendored or build output" : undefined),
      lowTier: parent.lowTier || LOW_TIER_DIRS.has(segment),
      test: parent.test || TEST_DIRS.has(segment),
      depth: parent.depth + 1,
    };
    dirs.set(dir, found);
    return found;
  };
  return (path, size) => {
    const slash = path.lastIndexOf("/");
    const dir = slash === -1 ? "" : path.slice(0, slash);
    const name = path.slice(slash + 1);
    const dirClass = classOfDir(dir);
    const lower = name.toLowerCase();
    const dot = lower.lastIndexOf(".");
    const extension = dot > 0 ? lower.slice(dot + 1) : "";
    let skip = dirClass.skip;
    if (skip === undefined) {
      if (LOCK_FILES.has(lower)) skip = "lock file";
      else if (BINARY_EXTENSIONS.has(extension)) skip = "binary";
      else if (size > MAX_MAPPED_BYTES) skip = "over 256 KiB";
      else if (MINIFIED_NAME.test(lower)) skip = "minified";
    }
    return {
      skip,
      lowTier: dirClass.lowTier || GENERATED_NAME.test(name),
      test: dirClass.test || TEST_NAME.test(name),
      language: LANGUAGES[extension],
      depth: dirClass.depth,
      dir,
      name,
      extension,
    };
  };
}

/** Content tells what a name cannot: NUL bytes mean binary; very long lines mean minified. */
export function skipReasonOfContent(content: string): SkipReason | undefined {
  if (content.length > MAX_MAPPED_BYTES) return "over 256 KiB";
  if (content.slice(0, 8000).includes("\0")) return "binary";
  const firstBreak = content.indexOf("\n");
  if (content.length > 5000 && (firstBreak === -1 || firstBreak > 5000)) return "minified";
  return undefined;
}
