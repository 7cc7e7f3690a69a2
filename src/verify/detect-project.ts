/**
 * Guessing how to install, test, build, lint and typecheck a repository from its top-level
 * files. Pure: the caller lists the files, reads those named in PROJECT_FILES_TO_READ, and
 * `.github/agent.yml` overrides the result elsewhere.
 *
 * Longer than most files here because each ecosystem needs its own few rules, and keeping
 * them side by side is what lets a reader see how conflicts between them are settled.
 * Contents are untrusted and may be anything: nothing here throws on them.
 */
import type { RepoConfig } from "../config/repo-config.schema.ts";
import { isRecord, parseJson } from "../json.ts";

export type Language = "node" | "python" | "go" | "rust" | "java" | "ruby" | "unknown";
export type PackageManager = "npm" | "pnpm" | "yarn" | "bun" | "uv" | "poetry" | "pip" | "go" | "cargo" | "maven" | "gradle" | "bundler";

export interface ProjectInfo {
  language: Language;
  packageManager: PackageManager | null;
  /** Each command is an argv array, run from the repository root. */
  install: string[] | null;
  test: string[] | null;
  build: string[] | null;
  lint: string[] | null;
  typecheck: string[] | null;
}

/** Repository files: path → content, or null when the file exists but was not read. */
export type ProjectFiles = ReadonlyMap<string, string | null>;

/** The files whose content detection looks at; for all others, presence is enough. */
export const PROJECT_FILES_TO_READ: readonly string[] = [
  "package.json",
  "pyproject.toml",
  "setup.cfg",
  "tox.ini",
  "requirements.txt",
  "requirements-dev.txt",
  "requirements_dev.txt",
  "requirements-test.txt",
  "dev-requirements.txt",
  "test-requirements.txt",
  "Gemfile",
  "Makefile",
  "makefile",
  "GNUmakefile",
];

const MAKEFILES = ["GNUmakefile", "makefile", "Makefile"];
const REQUIREMENTS_FILE = /^(?:requirements|dev-requirements|test-requirements)[\w.-]*\.txt$/;

/** The project's commands. When several ecosystems apply, the first with tests wins. */
export function detectProject(files: ProjectFiles): ProjectInfo {
  const detected = [detectNode, detectPython, detectGo, detectRust, detectJava, detectRuby]
    .map((detect) => detect(files))
    .filter((info) => info !== null);
  const make = makeTargetsOf(files);
  const primary = detected.find((info) => info.test !== null) ?? detected[0] ?? emptyProject();
  const fromMake = (target: string) => (make.has(target) ? ["make", target] : null);
  // A Makefile often wraps the ecosystem's own tools; we prefer the tools and fall back to make.
  return {
    ...primary,
    test: primary.test ?? fromMake("test"),
    build: primary.build ?? fromMake("build"),
    lint: primary.lint ?? fromMake("lint"),
    typecheck: primary.typecheck ?? fromMake("typecheck"),
  };
}

function emptyProject(): ProjectInfo {
  return { language: "unknown", packageManager: null, install: null, test: null, build: null, lint: null, typecheck: null };
}

function textOf(files: ProjectFiles, path: string): string {
  return files.get(path) ?? "";
}

// --- Node -------------------------------------------------------------------------------

type NodePackageManager = "npm" | "pnpm" | "yarn" | "bun";

interface PackageManifest {
  scripts: ReadonlyMap<string, string>;
  packageManager: string;
}

function detectNode(files: ProjectFiles): ProjectInfo | null {
  if (!files.has("package.json")) return null;
  const manifest = readPackageManifest(files.get("package.json") ?? null);
  const manager = nodePackageManagerOf(files, manifest.packageManager);
  const runScript = (...names: string[]) => {
    const name = names.find((candidate) => (manifest.scripts.get(candidate) ?? "").trim() !== "");
    return name === undefined ? null : [manager, "run", name];
  };
  return {
    language: "node",
    packageManager: manager,
    install: nodeInstallOf(files, manager, manifest.packageManager),
    test: isRealTestScript(manifest.scripts.get("test")) ? [manager, "run", "test"] : null,
    build: runScript("build"),
    lint: runScript("lint"),
    typecheck: runScript("typecheck", "type-check", "tsc"),
  };
}

/** Scripts and the `packageManager` field; broken or odd JSON counts as having neither. */
function readPackageManifest(content: string | null): PackageManifest {
  const parsed = parseJson(content ?? "");
  if (!isRecord(parsed)) return { scripts: new Map(), packageManager: "" };
  const scripts = isRecord(parsed.scripts) ? parsed.scripts : {};
  const entries = Object.entries(scripts).filter((entry): entry is [string, string] => typeof entry[1] === "string");
  return { scripts: new Map(entries), packageManager: typeof parsed.packageManager === "string" ? parsed.packageManager : "" };
}



/** npm init writes a test script that always fails; it means "no tests". */
function isRealTestScript(script: string | undefined): boolean {
  return script !== undefined && script.trim() !== "" && !script.includes("no test specified");
}

/** The `packageManager` field (corepack) first, then the lockfile. */
function nodePackageManagerOf(files: ProjectFiles, declared: string): NodePackageManager {
  const name = declared.split("@")[0];
  if (name === "npm" || name === "pnpm" || name === "yarn" || name === "bun") return name;
  if (files.has("pnpm-lock.yaml")) return "pnpm";
  if (files.has("yarn.lock")) return "yarn";
  if (files.has("bun.lockb") || files.has("bun.lock")) return "bun";
  return "npm";
}

function nodeInstallOf(files: ProjectFiles, manager: NodePackageManager, declared: string): string[] {
  switch (manager) {
    case "pnpm":
      return files.has("pnpm-lock.yaml") ? ["pnpm", "install", "--frozen-lockfile"] : ["pnpm", "install"];
    case "yarn": {
      if (!files.has("yarn.lock")) return ["yarn", "install"];
      // Yarn 2+ renamed --frozen-lockfile to --immutable.
      const isBerry = files.has(".yarnrc.yml") || /^yarn@(?:[2-9]|\d{2,})/.test(declared);
      return isBerry ? ["yarn", "install", "--immutable"] : ["yarn", "install", "--frozen-lockfile"];
    }
    case "bun":
      return files.has("bun.lockb") || files.has("bun.lock") ? ["bun", "install", "--frozen-lockfile"] : ["bun", "install"];
    case "npm":
      return files.has("package-lock.json") || files.has("npm-shrinkwrap.json") ? ["npm", "ci"] : ["npm", "install"];
  }
}

// --- Python -----------------------------------------------------------------------------

const PYTHON_MARKERS = ["pyproject.toml", "setup.py", "setup.cfg", "uv.lock", "poetry.lock", "Pipfile", "tox.ini", "pytest.ini"];
const PYTEST_FILES = ["pytest.ini", "conftest.py", "tests/conftest.py", "test/conftest.py"];

function detectPython(files: ProjectFiles): ProjectInfo | null {
  const requirements = [...files.keys()].filter((path) => REQUIREMENTS_FILE.test(path)).sort(requirementsTxtFirst);
  if (requirements.length === 0 && !PYTHON_MARKERS.some((path) => files.has(path))) return null;
  const pyproject = textOf(files, "pyproject.toml");
  const config = [pyproject, textOf(files, "setup.cfg"), textOf(files, "tox.ini"), ...requirements.map((path) => textOf(files, path))].join("\n");
  const manager: PackageManager = files.has("uv.lock")
    ? "uv"
    : files.has("poetry.lock") || /^\[tool\.poetry\]/m.test(pyproject)
      ? "poetry"
      : "pip";
  // Through the manager's environment, or the interpreter's module runner for plain pip.
  const run = manager === "uv" ? ["uv", "run"] : manager === "poetry" ? ["poetry", "run"] : ["python3", "-m"];
  const usesPytest = PYTEST_FILES.some((path) => files.has(path)) || /\bpytest\b/.test(config);
  const unittest = manager === "pip" ? ["python3", "-m", "unittest", "discover"] : [...run, "python", "-m", "unittest", "discover"];
  return {
    language: "python",
    packageManager: manager,
    install: pythonInstallOf(files, manager, requirements, pyproject),
    test: usesPytest ? [...run, "pytest"] : unittest,
    build: null,
    lint: /\bruff\b/.test(config) ? [...run, "ruff", "check", "."] : /\bflake8\b/.test(config) ? [...run, "flake8"] : null,
    typecheck: files.has("mypy.ini") || /\bmypy\b/.test(config) ? [...run, "mypy", "."] : null,
  };
}

function requirementsTxtFirst(a: string, b: string): number {
  if (a === "requirements.txt") return -1;
  if (b === "requirements.txt") return 1;
  return a.localeCompare(b);
}

function pythonInstallOf(files: ProjectFiles, manager: PackageManager, requirements: string[], pyproject: string): string[] | null {
  if (manager === "uv") return ["uv", "sync", "--frozen"];
  if (manager === "poetry") return ["poetry", "install", "--no-interaction"];
  if (requirements.length > 0) return ["python3", "-m", "pip", "install", ...requirements.flatMap((path) => ["-r", path])];
  if (!files.has("pyproject.toml") && !files.has("setup.py") && !files.has("setup.cfg")) return null;
  // Test tools usually live in a `dev` or `test` extra.
  const extras = tomlKeysOf(pyproject, "project.optional-dependencies").filter((key) => /^(?:dev|tests?|testing)$/.test(key));
  return ["python3", "-m", "pip", "install", "-e", extras.length > 0 ? `.[${extras.join(",")}]` : "."];
}

/** The keys of one TOML table, enough for `[project.optional-dependencies]` without a TOML parser. */
function tomlKeysOf(toml: string, table: string): string[] {
  const keys: string[] = [];
  let inTable = false;
  for (const line of toml.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]*)\]\s*(?:#.*)?$/.exec(line);
    if (header) {
      inTable = header[1].trim() === table;
      continue;
    }
    const key = inTable ? /^\s*([A-Za-z0-9_-]+)\s*=/.exec(line) : null;
    if (key) keys.push(key[1]);
  }
  return keys;
}

// --- Go, Rust, Java, Ruby ---------------------------------------------------------------

function detectGo(files: ProjectFiles): ProjectInfo | null {
  if (!files.has("go.mod")) return null;
  return {
    language: "go",
    packageManager: "go",
    install: ["go", "mod", "download"],
    test: ["go", "test", "./..."],
    build: ["go", "build", "./..."],
    lint: ["go", "vet", "./..."],
    typecheck: null,
  };
}

function detectRust(files: ProjectFiles): ProjectInfo | null {
  if (!files.has("Cargo.toml")) return null;
  return {
    language: "rust",
    packageManager: "cargo",
    install: ["cargo", "fetch"],
    test: ["cargo", "test"],
    build: ["cargo", "build"],
    lint: ["cargo", "clippy"],
    typecheck: null,
  };
}

/**
 * Maven and Gradle fetch dependencies on the first test run; a separate install step would
 * have to compile, and a repository that does not compile yet is one the agent may be fixing.
 */
function detectJava(files: ProjectFiles): ProjectInfo | null {
  if (files.has("pom.xml")) {
    const mvn = files.has("mvnw") ? "./mvnw" : "mvn";
    return { ...javaProject("maven"), test: [mvn, "-B", "test"], build: [mvn, "-B", "-DskipTests", "package"] };
  }
  const gradleFiles = ["build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"];
  if (!gradleFiles.some((path) => files.has(path))) return null;
  const gradle = files.has("gradlew") ? "./gradlew" : "gradle";
  return { ...javaProject("gradle"), test: [gradle, "test"], build: [gradle, "assemble"] };
}

function javaProject(packageManager: PackageManager): ProjectInfo {
  return { language: "java", packageManager, install: null, test: null, build: null, lint: null, typecheck: null };
}

function detectRuby(files: ProjectFiles): ProjectInfo | null {
  if (!files.has("Gemfile")) return null;
  const gemfile = textOf(files, "Gemfile");
  const usesRspec = files.has(".rspec") || /\brspec\b/.test(gemfile);
  const hasRakefile = files.has("Rakefile") || files.has("rakefile");
  return {
    language: "ruby",
    packageManager: "bundler",
    install: ["bundle", "install"],
    test: usesRspec ? ["bundle", "exec", "rspec"] : hasRakefile ? ["bundle", "exec", "rake", "test"] : null,
    build: null,
    lint: /\brubocop\b/.test(gemfile) ? ["bundle", "exec", "rubocop"] : null,
    typecheck: null,
  };
}

// --- Makefile ---------------------------------------------------------------------------

/** Rule targets of the Makefile make would pick (GNUmakefile, makefile, Makefile, in that order). */
function makeTargetsOf(files: ProjectFiles): ReadonlySet<string> {
  const makefile = MAKEFILES.find((path) => files.has(path));
  const targets = new Set<string>();
  if (makefile === undefined) return targets;
  for (const line of textOf(files, makefile).split(/\r?\n/)) {
    for (const target of ruleTargetsOf(line)) targets.add(target);
  }
  return targets;
}

/**
 * The targets of a Makefile rule line: `name another: deps` or `name::`, but not
 * `VAR := value`, a comment or a recipe line. A scan, not a pattern: a lazy pattern over a
 * long line of blanks is quadratic, and a repository's files are the agent's to write.
 */
function ruleTargetsOf(line: string): string[] {
  const colon = line.indexOf(":");
  if (colon <= 0 || /[\s:#=]/.test(line[0]!)) return [];
  const head = line.slice(0, colon);
  if (head.includes("#") || head.includes("=")) return [];
  const after = line[colon + 1] === ":" ? colon + 2 : colon + 1;
  if (line[after] === ":" || line[after] === "=") return [];
  return head.trim().split(/\s+/);
}

/** Apply the file's command overrides to what detection found. Pure. */
export function applyCommandOverrides(project: ProjectInfo, config: RepoConfig): ProjectInfo {
  const overrides = config.commands ?? {};
  const result = { ...project };
  for (const key of ["install", "test", "build", "lint", "typecheck"] as const) {
    const value = overrides[key];
    if (value === undefined) continue;
    result[key] = value === false ? null : typeof value === "string" ? ["sh", "-c", value] : value;
  }
  return result;
}
