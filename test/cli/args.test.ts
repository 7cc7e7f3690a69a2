import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkTaskText, parseCliArgs, USAGE } from "../../src/cli/args.ts";

const context = { cwd: "/home/me/project", now: new Date("2026-11-24T10:05:30.123Z") };
const parse = (...argv: string[]) => parseCliArgs(argv, context);

describe("running-agent run", () => {
  it("takes the task from the argument, the repository from the current directory by default", () => {
    expect(parse("run", "  add greet()  ")).toEqual({
      kind: "run",
      repo: "/home/me/project",
      task: { from: "argument", text: "add greet()" },
      base: null,
      json: false,
      models: {},
      maxCostUsd: null,
      maxIterations: null,
    });
  });

  it("reads every option, paths resolved against the current directory", () => {
    const command = parse("run", "--repo", "../other", "--task-file=task.md", "--base", "v1.2", "--model-explore", "google/gemini-2.5-pro", "--model-plan", "openai/gpt-5", "--model-build", "anthropic/claude-sonnet-4.5", "--max-cost", "0.5", "--max-iterations", "3", "--json");
    expect(command).toEqual({
      kind: "run",
      repo: "/home/me/other",
      task: { from: "file", path: "/home/me/project/task.md" },
      base: "v1.2",
      json: true,
      models: { explore: "google/gemini-2.5-pro", plan: "openai/gpt-5", build: "anthropic/claude-sonnet-4.5" },
      maxCostUsd: 0.5,
      maxIterations: 3,
    });
  });

  it("takes options after the task as well", () => {
    expect(parse("run", "fix it", "--json")).toMatchObject({ kind: "run", task: { text: "fix it" }, json: true });
  });

  it("accepts a task that starts with a dash after --", () => {
    expect(parse("run", "--", "-v should print the version")).toMatchObject({ kind: "run", task: { text: "-v should print the version" } });
  });
});

describe("running-agent eval", () => {
  it("defaults to one task at a time and a timestamped folder under eval-results", () => {
    expect(parse("eval", "eval/suites/basic")).toEqual({
      kind: "eval",
      suite: "/home/me/project/eval/suites/basic",
      concurrency: 1,
      out: "/home/me/project/eval-results/2026-11-24T10-05-30Z",
      compare: null,
      only: null,
      models: {},
      maxCostUsd: null,
      maxIterations: null,
    });
  });

  it("reads concurrency, out, compare, only and the model options", () => {
    const command = parse("eval", "suite", "--concurrency", "4", "--out", "/tmp/out", "--compare", "old/report.json", "--only", "b, a,,b", "--model-build", "scripted/build", "--max-cost", "2");
    expect(command).toMatchObject({ kind: "eval", concurrency: 4, out: "/tmp/out", compare: "/home/me/project/old/report.json", only: ["b", "a"], models: { build: "scripted/build" }, maxCostUsd: 2 });
  });
});

describe("help and version", () => {
  it.each([["help"], ["--help"], ["-h"], ["run", "--help"], ["eval", "-h"]])("%s shows the usage", (...argv) => {
    expect(parse(...argv)).toEqual({ kind: "help" });
  });

  it("--version", () => {
    expect(parse("--version")).toEqual({ kind: "version" });
  });

  it("has a usage text naming both commands and the exit codes", () => {
    expect(USAGE).toContain("running-agent run");
    expect(USAGE).toContain("running-agent eval <suite>");
    expect(USAGE).toContain("2 for bad usage");
  });
});

describe("bad usage", () => {
  it.each([
    [[], "no command given; expected run or eval"],
    [["deploy"], 'unknown command "deploy"; expected run or eval'],
    [["run", "x", "--frobnicate"], "unknown option --frobnicate"],
    [["run", "x", "-x"], "unknown option -x"],
    [["run", "x", "--repo"], "--repo needs a value"],
    [["run", "x", "--repo", "--json"], "--repo needs a value"],
    [["run", "x", "--repo="], "--repo needs a value"],
    [["run", "x", "--json=yes"], "--json takes no value"],
    [["run", "x", "--base", "a", "--base", "b"], "--base is given more than once"],
    [["run", "x", "--task-file", "t.md"], "give the task either as an argument or with --task-file, not both"],
    [["run"], 'no task given; write it in quotes ("…") or pass --task-file <path>'],
    [["run", "  "], "the task is empty"],
    [["run", "fix", "the", "bug"], "give the task as one quoted argument (got 3 arguments)"],
    [["run", "x", "--max-cost", "cheap"], '--max-cost must be a positive number of US dollars, got "cheap"'],
    [["run", "x", "--max-cost", "0"], '--max-cost must be a positive number of US dollars, got "0"'],
    [["run", "x", "--max-cost=-1"], '--max-cost must be a positive number of US dollars, got "-1"'],
    [["run", "x", "--max-cost", "1e3"], '--max-cost must be a positive number of US dollars, got "1e3"'],
    [["run", "x", "--max-iterations", "0"], '--max-iterations must be a whole number of at least 1, got "0"'],
    [["run", "x", "--max-iterations", "2.5"], '--max-iterations must be a whole number of at least 1, got "2.5"'],
    [["run", "x", "--model-build", "gpt-5"], '--model-build must be provider/model (like anthropic/claude-sonnet-4), got "gpt-5"'],
    [["run", "x", "--model-plan", "openai/"], '--model-plan must be provider/model (like anthropic/claude-sonnet-4), got "openai/"'],
    [["eval"], "no suite given; expected running-agent eval <suite folder>"],
    [["eval", "a", "b"], "expected one suite folder, got 2: a b"],
    [["eval", "s", "--concurrency", "0"], '--concurrency must be a whole number of at least 1, got "0"'],
    [["eval", "s", "--concurrency", "many"], '--concurrency must be a whole number of at least 1, got "many"'],
    [["eval", "s", "--only", " , "], "--only needs at least one task id"],
    [["eval", "s", "--json"], "unknown option --json"],
    [["eval", "s", "--base", "main"], "unknown option --base"],
  ])("%j: %s", (argv, message) => {
    expect(parse(...argv)).toEqual({ kind: "usage-error", message });
  });

  it("never throws, and always gives one line", () => {
    const word = fc.oneof(fc.constantFrom("run", "eval", "--repo", "--json", "--only", "--max-cost", "-h", "--", "--task-file", "=", "-"), fc.string());
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (argv) => {
        const command = parseCliArgs(argv, context);
        if (command.kind === "usage-error") expect(command.message).not.toMatch(/\n/);
      }),
    );
  });

  it("an empty task file is bad usage, naming the file", () => {
    expect(checkTaskText(" \n\t", "/tmp/task.md")).toEqual({ kind: "usage-error", message: "the task file /tmp/task.md is empty" });
    expect(checkTaskText("fix it", "/tmp/task.md")).toBeNull();
  });
});
