import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detectProject, PROJECT_FILES_TO_READ, type ProjectInfo } from "../../src/verify/detect-project.ts";

/** A file map as the caller builds it: content for the files it reads, null for the others. */
function filesOf(entries: Record<string, string | null>): Map<string, string | null> {
  return new Map(Object.entries(entries));
}

function packageJson(scripts: Record<string, string>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: "app", scripts, ...extra });
}

const NPM_DEFAULT_TEST = 'echo "Error: no test specified" && exit 1';

describe("detectProject", () => {
  describe("Node", () => {
    it("uses npm ci with a package-lock and runs the scripts that exist", () => {
      const files = filesOf({
        "package.json": packageJson({ test: "vitest run", build: "tsc -p .", lint: "eslint .", typecheck: "tsc --noEmit" }),
        "package-lock.json": null,
      });
      expect(detectProject(files)).toEqual<ProjectInfo>({
        language: "node",
        packageManager: "npm",
        install: ["npm", "ci"],
        test: ["npm", "run", "test"],
        build: ["npm", "run", "build"],
        lint: ["npm", "run", "lint"],
        typecheck: ["npm", "run", "typecheck"],
      });
    });

    it("uses npm install without a lockfile and ignores npm's placeholder test script", () => {
      const info = detectProject(filesOf({ "package.json": packageJson({ test: NPM_DEFAULT_TEST }) }));
      expect(info.install).toEqual(["npm", "install"]);
      expect(info.test).toBeNull();
      expect(info.build).toBeNull();
    });

    it("finds typecheck under its other names", () => {
      expect(detectProject(filesOf({ "package.json": packageJson({ "type-check": "tsc" }) })).typecheck).toEqual(["npm", "run", "type-check"]);
      expect(detectProject(filesOf({ "package.json": packageJson({ tsc: "tsc" }) })).typecheck).toEqual(["npm", "run", "tsc"]);
    });

    it("picks pnpm, yarn and bun by lockfile", () => {
      const withLock = (lock: string) => detectProject(filesOf({ "package.json": packageJson({ test: "jest" }), [lock]: null }));
      expect(withLock("pnpm-lock.yaml")).toMatchObject({ packageManager: "pnpm", install: ["pnpm", "install", "--frozen-lockfile"], test: ["pnpm", "run", "test"] });
      expect(withLock("yarn.lock")).toMatchObject({ packageManager: "yarn", install: ["yarn", "install", "--frozen-lockfile"], test: ["yarn", "run", "test"] });
      expect(withLock("bun.lockb")).toMatchObject({ packageManager: "bun", install: ["bun", "install", "--frozen-lockfile"], test: ["bun", "run", "test"] });
    });

    it("uses yarn --immutable for Yarn 2 and later", () => {
      const declared = detectProject(filesOf({ "package.json": packageJson({}, { packageManager: "yarn@4.1.0" }), "yarn.lock": null }));
      expect(declared.install).toEqual(["yarn", "install", "--immutable"]);
      const rc = detectProject(filesOf({ "package.json": packageJson({}), "yarn.lock": null, ".yarnrc.yml": null }));
      expect(rc.install).toEqual(["yarn", "install", "--immutable"]);
    });

    it("trusts the packageManager field over lockfiles", () => {
      const info = detectProject(filesOf({ "package.json": packageJson({}, { packageManager: "pnpm@9.1.0+sha512.abc" }), "package-lock.json": null }));
      expect(info).toMatchObject({ packageManager: "pnpm", install: ["pnpm", "install"] });
    });

    it("survives broken or odd package.json content", () => {
      for (const content of ["{ not json", "null", "[1,2]", '"text"', '{"scripts": ["test"]}', '{"scripts": {"test": 5, "build": null}}', null]) {
        const info = detectProject(filesOf({ "package.json": content, "package-lock.json": null }));
        expect(info).toEqual({ language: "node", packageManager: "npm", install: ["npm", "ci"], test: null, build: null, lint: null, typecheck: null });
      }
    });
  });

  describe("Python", () => {
    it("uses uv run pytest with uv.lock", () => {
      const info = detectProject(filesOf({ "pyproject.toml": '[project]\nname = "x"\n[dependency-groups]\ndev = ["pytest", "ruff"]\n', "uv.lock": null }));
      expect(info).toEqual<ProjectInfo>({
        language: "python",
        packageManager: "uv",
        install: ["uv", "sync", "--frozen"],
        test: ["uv", "run", "pytest"],
        build: null,
        lint: ["uv", "run", "ruff", "check", "."],
        typecheck: null,
      });
    });

    it("uses poetry run pytest with poetry", () => {
      const info = detectProject(filesOf({ "pyproject.toml": "[tool.poetry]\nname = \"x\"\n[tool.mypy]\nstrict = true\n", "poetry.lock": null, "tests/conftest.py": null }));
      expect(info).toMatchObject({
        packageManager: "poetry",
        install: ["poetry", "install", "--no-interaction"],
        test: ["poetry", "run", "pytest"],
        typecheck: ["poetry", "run", "mypy", "."],
      });
    });

    it("uses pytest from requirements when it is a dependency", () => {
      const info = detectProject(filesOf({ "requirements.txt": "flask==3.0\n", "requirements-dev.txt": "pytest>=8\nflake8\n" }));
      expect(info).toMatchObject({
        packageManager: "pip",
        install: ["python3", "-m", "pip", "install", "-r", "requirements.txt", "-r", "requirements-dev.txt"],
        test: ["python3", "-m", "pytest"],
        lint: ["python3", "-m", "flake8"],
      });
    });

    it("installs the package with its test extra when there are no requirements files", () => {
      const pyproject = '[project]\nname = "x"\n\n[project.optional-dependencies]\ndocs = ["sphinx"]\ntest = ["pytest"]\n\n[tool.pytest.ini_options]\naddopts = "-q"\n';
      const info = detectProject(filesOf({ "pyproject.toml": pyproject }));
      expect(info).toMatchObject({ install: ["python3", "-m", "pip", "install", "-e", ".[test]"], test: ["python3", "-m", "pytest"] });
    });

    it("falls back to unittest when nothing mentions pytest", () => {
      expect(detectProject(filesOf({ "setup.py": null })).test).toEqual(["python3", "-m", "unittest", "discover"]);
      expect(detectProject(filesOf({ "pyproject.toml": "[project]\n", "uv.lock": null })).test).toEqual(["uv", "run", "python", "-m", "unittest", "discover"]);
    });

    it("sees pytest configured in setup.cfg, tox.ini or pytest.ini", () => {
      expect(detectProject(filesOf({ "setup.cfg": "[tool:pytest]\ntestpaths = tests\n" })).test).toEqual(["python3", "-m", "pytest"]);
      expect(detectProject(filesOf({ "tox.ini": "[pytest]\n" })).test).toEqual(["python3", "-m", "pytest"]);
      expect(detectProject(filesOf({ "pytest.ini": null, "setup.py": null })).test).toEqual(["python3", "-m", "pytest"]);
    });
  });

  it("detects Go", () => {
    expect(detectProject(filesOf({ "go.mod": null, "go.sum": null }))).toEqual<ProjectInfo>({
      language: "go",
      packageManager: "go",
      install: ["go", "mod", "download"],
      test: ["go", "test", "./..."],
      build: ["go", "build", "./..."],
      lint: ["go", "vet", "./..."],
      typecheck: null,
    });
  });

  it("detects Rust", () => {
    expect(detectProject(filesOf({ "Cargo.toml": null, "Cargo.lock": null }))).toMatchObject({
      language: "rust",
      packageManager: "cargo",
      test: ["cargo", "test"],
      build: ["cargo", "build"],
      lint: ["cargo", "clippy"],
    });
  });

  it("detects Maven, with or without its wrapper", () => {
    expect(detectProject(filesOf({ "pom.xml": null }))).toMatchObject({ language: "java", packageManager: "maven", install: null, test: ["mvn", "-B", "test"] });
    expect(detectProject(filesOf({ "pom.xml": null, mvnw: null })).test).toEqual(["./mvnw", "-B", "test"]);
  });

  it("detects Gradle, with or without its wrapper", () => {
    expect(detectProject(filesOf({ "build.gradle.kts": null, gradlew: null }))).toMatchObject({
      packageManager: "gradle",
      test: ["./gradlew", "test"],
      build: ["./gradlew", "assemble"],
    });
    expect(detectProject(filesOf({ "build.gradle": null })).test).toEqual(["gradle", "test"]);
  });

  it("detects Ruby with rspec or rake", () => {
    const rspec = detectProject(filesOf({ Gemfile: "source 'https://rubygems.org'\ngem 'rspec', '~> 3.13'\ngem 'rubocop'\n", Rakefile: null }));
    expect(rspec).toMatchObject({ language: "ruby", install: ["bundle", "install"], test: ["bundle", "exec", "rspec"], lint: ["bundle", "exec", "rubocop"] });
    expect(detectProject(filesOf({ Gemfile: "gem 'minitest'\n", Rakefile: null })).test).toEqual(["bundle", "exec", "rake", "test"]);
    expect(detectProject(filesOf({ Gemfile: "gem 'minitest'\n" })).test).toBeNull();
  });

  describe("Makefile", () => {
    const makefile = ".PHONY: test lint\nVERSION := 1.0\nCC ?= gcc\nbuild: main.o\n\tcc -o app main.o\ntest lint: build\n\t./run-checks\n";

    it("runs make targets when nothing else is detected", () => {
      expect(detectProject(filesOf({ Makefile: makefile }))).toEqual<ProjectInfo>({
        language: "unknown",
        packageManager: null,
        install: null,
        test: ["make", "test"],
        build: ["make", "build"],
        lint: ["make", "lint"],
        typecheck: null,
      });
    });

    it("does not take variables or recipes for targets", () => {
      const info = detectProject(filesOf({ Makefile: "test := 1\nlint ::= 2\nall:\n\tbuild: nope\n" }));
      expect(info.test).toBeNull();
      expect(info.lint).toBeNull();
      expect(info.build).toBeNull();
    });

    it("prefers the language's own commands and fills gaps from make", () => {
      const info = detectProject(filesOf({ "go.mod": null, Makefile: makefile }));
      expect(info.test).toEqual(["go", "test", "./..."]);
      const node = detectProject(filesOf({ "package.json": packageJson({ test: NPM_DEFAULT_TEST, lint: "eslint ." }), Makefile: makefile }));
      expect(node).toMatchObject({ language: "node", install: ["npm", "install"], test: ["make", "test"], lint: ["npm", "run", "lint"], build: ["make", "build"] });
    });

    it("reads nothing from a Makefile that was not read", () => {
      expect(detectProject(filesOf({ Makefile: null })).test).toBeNull();
    });
  });

  it("prefers the ecosystem that has tests when several apply", () => {
    const info = detectProject(filesOf({ "package.json": packageJson({ lint: "prettier --check ." }), "pyproject.toml": "[tool.pytest.ini_options]\n", "uv.lock": null }));
    expect(info).toMatchObject({ language: "python", test: ["uv", "run", "pytest"] });
    const both = detectProject(filesOf({ "package.json": packageJson({ test: "jest" }), "go.mod": null }));
    expect(both.language).toBe("node");
  });

  it("detects nothing in an empty repository", () => {
    expect(detectProject(new Map())).toEqual({ language: "unknown", packageManager: null, install: null, test: null, build: null, lint: null, typecheck: null });
  });

  it("asks for the files whose content it uses", () => {
    for (const path of ["package.json", "pyproject.toml", "Makefile", "Gemfile", "setup.cfg", "tox.ini", "requirements.txt"]) {
      expect(PROJECT_FILES_TO_READ).toContain(path);
    }
  });

  it("never throws and always answers argv arrays, for any files and contents", () => {
    const knownPath = fc.constantFrom(...PROJECT_FILES_TO_READ, "package-lock.json", "yarn.lock", "go.mod", "Cargo.toml", "pom.xml", "gradlew", "uv.lock", "Rakefile", "__proto__", "constructor");
    const content = fc.oneof(
      fc.constant(null),
      fc.string(),
      fc.json(),
      fc.dictionary(fc.constantFrom("scripts", "packageManager", "__proto__"), fc.jsonValue()).map((value) => JSON.stringify(value)),
      fc.dictionary(fc.constantFrom("test", "build", "lint", "tsc", "constructor"), fc.oneof(fc.string(), fc.jsonValue())).map((scripts) => JSON.stringify({ scripts })),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(knownPath, fc.string()), content), { maxLength: 12 }), (entries) => {
        const info = detectProject(new Map(entries));
        for (const command of [info.install, info.test, info.build, info.lint, info.typecheck]) {
          if (command === null) continue;
          expect(command.length).toBeGreaterThan(0);
          for (const arg of command) expect(typeof arg).toBe("string");
        }
      }),
      { numRuns: 1000 },
    );
  });
});
