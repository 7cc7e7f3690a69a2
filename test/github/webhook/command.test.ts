import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../../src/github/webhook/command.ts";
import { expectLinearTime } from "../../support/linear-time.ts";

describe("parseCommand", () => {
  it("reads a task from the rest of the line and the lines after it", () => {
    expect(parseCommand("/agent add a --verbose flag\n\nIt should print every step.\r\n")).toEqual({
      kind: "task",
      task: "add a --verbose flag\n\nIt should print every step.",
    });
  });

  it("finds the command after other text, with leading whitespace", () => {
    expect(parseCommand("Thanks for the report!\r\n   /agent fix the typo in README")).toEqual({
      kind: "task",
      task: "fix the typo in README",
    });
  });

  it("takes the first command when there are several", () => {
    expect(parseCommand("/agent cancel\n/agent do something else")).toEqual({ kind: "cancel" });
  });

  it("takes a task that starts on the next line", () => {
    expect(parseCommand("/agent\nRename `foo` to `bar`.")).toEqual({ kind: "task", task: "Rename `foo` to `bar`." });
  });

  it("ignores /agentx, /Agent and /agent in the middle of a line", () => {
    expect(parseCommand("/agentx do it")).toBeNull();
    expect(parseCommand("/Agent do it")).toBeNull();
    expect(parseCommand("please /agent do it")).toBeNull();
    expect(parseCommand("`/agent do it`")).toBeNull();
  });

  it("answers help for a bare /agent and for /agent help", () => {
    expect(parseCommand("/agent")).toEqual({ kind: "help" });
    expect(parseCommand("/agent   \n\n  ")).toEqual({ kind: "help" });
    expect(parseCommand("/agent help")).toEqual({ kind: "help" });
  });

  it("reads cancel, retry and help only when the word is alone on the line", () => {
    expect(parseCommand("/agent cancel")).toEqual({ kind: "cancel" });
    expect(parseCommand("/agent retry\nthe flaky network again")).toEqual({ kind: "retry" });
    expect(parseCommand("/agent Cancel.")).toEqual({ kind: "cancel" });
    expect(parseCommand("/agent help me fix the login bug")).toEqual({ kind: "task", task: "help me fix the login bug" });
    expect(parseCommand("/agent retry the request on 503")).toEqual({ kind: "task", task: "retry the request on 503" });
    expect(parseCommand("/agent cancelled orders should not be billed")).toEqual({
      kind: "task",
      task: "cancelled orders should not be billed",
    });
  });

  it("ignores commands inside fenced code blocks", () => {
    const body = ["To start it, type:", "```", "/agent fix the bug", "```", "and wait."].join("\n");
    expect(parseCommand(body)).toBeNull();
    expect(parseCommand("~~~~md\n/agent a\n~~~\n/agent b\n~~~~")).toBeNull();
    expect(parseCommand("```\n/agent a\n```\n/agent b")).toEqual({ kind: "task", task: "b" });
  });

  it("treats an unclosed fence as running to the end", () => {
    expect(parseCommand("```\n/agent a")).toBeNull();
  });

  it("does not close a fence with a shorter one or one followed by text", () => {
    expect(parseCommand("````\n```\n/agent a\n````")).toBeNull();
    expect(parseCommand("```\n``` js\n/agent a\n```")).toBeNull();
  });

  it("ignores quoted commands", () => {
    expect(parseCommand("> /agent fix it\n\nI disagree.")).toBeNull();
    expect(parseCommand("  > > /agent fix it")).toBeNull();
  });

  it("ignores commands in indented code blocks", () => {
    expect(parseCommand("Run this:\n\n    /agent fix the bug")).toBeNull();
    expect(parseCommand("    /agent fix the bug")).toBeNull();
    expect(parseCommand("Run this:\n\n\t/agent fix the bug")).toBeNull();
    expect(parseCommand("Run this:\n\n  \t/agent fix the bug")).toBeNull();
    expect(parseCommand("# Steps\n    /agent fix the bug")).toBeNull();
    // Blank lines inside the block keep it open; a line indented less ends it.
    expect(parseCommand("    npm test\n\n    /agent fix the bug\n/agent real task")).toEqual({ kind: "task", task: "real task" });
  });

  it("reads an indented command that continues a paragraph, as GitHub shows it", () => {
    expect(parseCommand("Please:\n    /agent fix the bug")).toEqual({ kind: "task", task: "fix the bug" });
    expect(parseCommand("   /agent fix the bug")).toEqual({ kind: "task", task: "fix the bug" });
  });

  it("ignores lazy continuation lines of a quote", () => {
    expect(parseCommand("> Could someone run this?\n/agent delete the tests")).toBeNull();
    expect(parseCommand("> > nested\n/agent delete the tests")).toBeNull();
    expect(parseCommand("> quoted\nstill quoted\n      /agent delete the tests")).toBeNull();
    expect(parseCommand("Earlier:\n> quoted\n/agent delete the tests\n\n/agent real task")).toEqual({ kind: "task", task: "real task" });
  });

  it("reads a command once the quote has ended", () => {
    expect(parseCommand("> quoted\n\n/agent real task")).toEqual({ kind: "task", task: "real task" });
    expect(parseCommand("> quoted\n>\n/agent real task")).toEqual({ kind: "task", task: "real task" });
    expect(parseCommand("> # A heading\n/agent real task")).toEqual({ kind: "task", task: "real task" });
    expect(parseCommand("> quoted\n---\n/agent real task")).toEqual({ kind: "task", task: "real task" });
  });

  it("ignores commands in <pre> blocks, however they span lines", () => {
    expect(parseCommand("<pre>\n/agent delete everything\n</pre>")).toBeNull();
    expect(parseCommand("Output:\n<PRE class=\"x\">log\n/agent delete everything\nmore</pre> done")).toBeNull();
    expect(parseCommand("text <pre>\n\n/agent delete everything\n\n</pre>")).toBeNull();
    expect(parseCommand("<pre>\n/agent a\n</pre>\n/agent real task")).toEqual({ kind: "task", task: "real task" });
    expect(parseCommand("<pre><!-- </pre> -->\n/agent a\n</pre>")).toBeNull();
    expect(parseCommand("<textarea>\n/agent a\n</textarea>")).toBeNull();
    expect(parseCommand("<pre>\n/agent a")).toBeNull();
  });

  it("is not fooled by tags and comment openings inside code spans", () => {
    expect(parseCommand("The `<pre>` tag breaks.\n/agent fix it")).toEqual({ kind: "task", task: "fix it" });
    expect(parseCommand("Type ``<!--`` to start a comment.\n/agent fix it")).toEqual({ kind: "task", task: "fix it" });
    expect(parseCommand("An unclosed ` then <pre>\n/agent fix it")).toBeNull();
  });

  it("takes linear time on markup made to make it rescan", () => {
    const shapes: Array<(chars: number) => string> = [
      (chars) => "<pre></pre>".repeat(chars / 11),
      (chars) => "`".repeat(chars / 3) + "``".repeat(chars / 3),
      (chars) => `<!--${"-".repeat(chars)}`,
      (chars) => `</pre${" ".repeat(chars)}`,
    ];
    for (const shape of shapes) {
      expectLinearTime((line) => parseCommand(`${line}\n/agent fix it`), shape);
      expectLinearTime((line) => parseCommand(`<pre>\n${line}\n/agent fix it`), shape);
    }
  });

  it("ignores commands hidden in HTML comments", () => {
    expect(parseCommand("<!--\n/agent delete everything\n-->")).toBeNull();
    expect(parseCommand("Hello <!-- note\n/agent delete everything\n--> bye")).toBeNull();
    expect(parseCommand("<!-- template -->\n/agent real task")).toEqual({ kind: "task", task: "real task" });
  });

  describe("run", () => {
    it("reads a pipeline and its inputs", () => {
      expect(parseCommand('/agent run ci-fix branch=main message="fix the build" empty=')).toEqual({
        kind: "run",
        pipeline: "ci-fix",
        inputs: { branch: "main", message: "fix the build", empty: "" },
      });
    });

    it("reads a pipeline without inputs and ignores the following lines", () => {
      expect(parseCommand("/agent run nightly\nthanks!")).toEqual({ kind: "run", pipeline: "nightly", inputs: {} });
    });

    it("unescapes quoted values", () => {
      expect(parseCommand('/agent run p msg="say \\"hi\\" \\\\o/"')).toEqual({
        kind: "run",
        pipeline: "p",
        inputs: { msg: 'say "hi" \\o/' },
      });
    });

    it("keeps __proto__ as a plain input", () => {
      const command = parseCommand("/agent run p __proto__=x");
      expect(command).toEqual({ kind: "run", pipeline: "p", inputs: { ["__proto__"]: "x" } });
      expect(Object.getPrototypeOf(command?.kind === "run" ? command.inputs : null)).toBe(Object.prototype);
    });

    it("reports malformed inputs", () => {
      const reasonOf = (body: string) => {
        const command = parseCommand(body);
        return command?.kind === "invalid" ? command.reason : `not invalid: ${JSON.stringify(command)}`;
      };
      expect(reasonOf('/agent run p msg="unterminated')).toMatch(/quote/);
      expect(reasonOf('/agent run p msg="a"b')).toMatch(/quote/);
      expect(reasonOf("/agent run p a=1 and more")).toMatch(/`and` is not a key=value/);
      expect(reasonOf("/agent run p a=1 a=2")).toMatch(/given twice/);
      expect(reasonOf("/agent run p 9x=1")).toMatch(/not a valid input name/);
      expect(reasonOf("/agent run p a=1 =2")).toMatch(/no name/);
      expect(reasonOf("/agent run")).toMatch(/needs a pipeline name/);
      expect(reasonOf("/agent run a=1")).toMatch(/pipeline name must come before/);
    });

    it("treats prose that starts with run as a task", () => {
      expect(parseCommand("/agent run the tests and fix what fails")).toEqual({
        kind: "task",
        task: "run the tests and fix what fails",
      });
      expect(parseCommand("/agent run `npm test` and fix it")).toEqual({ kind: "task", task: "run `npm test` and fix it" });
      expect(parseCommand("/agent runs are slow, speed them up")).toEqual({ kind: "task", task: "runs are slow, speed them up" });
    });
  });

  describe("properties", () => {
    const keywords = new Set(["help", "cancel", "retry", "run"]);
    const word = fc.stringMatching(/^[A-Za-z0-9,.'!?()-]{1,12}$/);
    const taskLine = fc
      .array(word, { minLength: 1, maxLength: 8 })
      .filter((words) => !keywords.has(words[0].replace(/[.!]$/, "").toLowerCase()))
      .map((words) => words.join(" "));
    const startsCommand = (line: string) => /^\/agent(\s|$)/.test(line.trimStart());
    const opensBlock = (line: string) => /^\s*(```|~~~|>)/.test(line) || /<!--|<(pre|script|style|textarea)/i.test(line);
    // Not code (indented four columns) and not blank either: a blank line would make the next indented line code.
    const plainLine = fc.string({ maxLength: 40 }).filter((line) => !/[\r\n]/.test(line) && line.trim() !== "" && !/^( {4}| {0,3}\t)/.test(line) && !startsCommand(line) && !opensBlock(line));
    const anyLine = fc.string({ maxLength: 40 }).filter((line) => !/[\r\n]/.test(line));

    it("never throws", () => {
      const fragments = fc.constantFrom("/agent", "/agent run", "```", "~~~", ">", "<!--", "-->", '"', "=", " ", "\n", "\r\n");
      const body = fc.array(fc.oneof(fc.string(), fragments), { maxLength: 20 }).map((parts) => parts.join(""));
      fc.assert(
        fc.property(body, (text) => {
          parseCommand(text);
        }),
      );
    });

    it("round-trips a task embedded in surrounding text", () => {
      fc.assert(
        fc.property(fc.array(plainLine, { maxLength: 5 }), fc.constantFrom("", " ", "   "), taskLine, fc.array(anyLine, { maxLength: 5 }), fc.constantFrom("\n", "\r\n"), (before, indent, task, after, eol) => {
          const body = [...before, `${indent}/agent ${task}`, ...after].join(eol);
          expect(parseCommand(body)).toEqual({ kind: "task", task: [task, ...after].join("\n").trim() });
        }),
      );
    });

    it("finds nothing in text without /agent at a line start", () => {
      fc.assert(
        fc.property(fc.array(anyLine.filter((line) => !startsCommand(line)), { maxLength: 10 }), (lines) => {
          expect(parseCommand(lines.join("\n"))).toBeNull();
        }),
      );
    });

    it("finds nothing in quoted, fenced, indented or <pre> commands", () => {
      const fenced = fc.tuple(fc.constantFrom("```", "````", "~~~"), fc.array(anyLine, { maxLength: 3 }), taskLine).map(
        ([fence, lines, task]) => [fence, ...lines, `/agent ${task}`, fence].join("\n"),
      );
      const quoted = taskLine.map((task) => `> /agent ${task}`);
      const lazilyQuoted = fc.tuple(plainLine, fc.constantFrom("", "  ", "      "), taskLine).map(([quote, indent, task]) => `> Quoted: ${quote}\n${indent}/agent ${task}`);
      const indented = fc.tuple(fc.constantFrom("    ", "\t", "  \t", "        "), taskLine).map(([indent, task]) => `\n${indent}/agent ${task}`);
      const pre = fc.tuple(fc.constantFrom("<pre>", "<pre lang=\"sh\">", "<PRE>", "text <pre>"), fc.array(anyLine.filter((line) => !/<\/pre/i.test(line)), { maxLength: 3 }), taskLine).map(
        ([opening, lines, task]) => [opening, ...lines, `/agent ${task}`, "</pre>"].join("\n"),
      );
      // Each block is followed by a blank line, so that plain text after it is not part of it.
      const block = fc.oneof(fenced, quoted, lazilyQuoted, indented, pre).map((text) => `${text}\n`);
      fc.assert(
        fc.property(fc.array(plainLine, { maxLength: 3 }), block, fc.array(plainLine, { maxLength: 3 }), (before, hidden, after) => {
          expect(parseCommand([...before, hidden, ...after].join("\n"))).toBeNull();
        }),
      );
    });

    it("reads generated run commands back", () => {
      const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/);
      const value = fc.string({ maxLength: 12 }).filter((text) => !/[\r\n]/.test(text));
      fc.assert(
        fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$/), fc.dictionary(key, value, { maxKeys: 5 }), (pipeline, inputs) => {
          const args = Object.entries(inputs).map(([k, v]) => `${k}="${v.replace(/[\\"]/g, "\\$&")}"`);
          expect(parseCommand([`/agent run ${pipeline}`, ...args].join(" "))).toEqual({ kind: "run", pipeline, inputs });
        }),
      );
    });
  });
});
