/**
 * The main symbols of a source file, found with line-anchored regexes instead of a parser:
 * the map has to summarize thousands of files in milliseconds, and a missed or extra
 * symbol costs little. Each language lists its declarations in source order, each marked
 * public or not; when a file has public symbols, only those are kept (exports, `pub`,
 * capitalized Go names), since they are what other files use. Pure.
 *
 * Every pattern is anchored at a line start and uses `[ \t]` rather than `\s`, so a match
 * never runs across lines (but `export { … }`, which stops at its `}`) and backtracking is
 * bounded by the line's length. (One file for eight languages: each extractor is a few
 * lines around the shared `collect`.)
 */
import type { Language } from "./repo-map-files.ts";

export interface CodeSymbol {
  /** Short kind shown in the map: fn, class, interface, type, const, enum, struct, trait, impl, mod. */
  kind: string;
  name: string;
}

interface Found extends CodeSymbol {
  index: number;
  public: boolean;
}

type Extractor = (content: string, found: Found[], path: string) => void;

/** No file is scanned for more than this many symbols: a map line shows a handful. */
const MAX_SCANNED = 64;
const MAX_NAME = 60;

export function extractSymbols(language: Language, content: string, path = ""): CodeSymbol[] {
  const found: Found[] = [];
  EXTRACTORS[language](content, found, path);
  found.sort((a, b) => a.index - b.index);
  const anyPublic = found.some((symbol) => symbol.public);
  const seen = new Set<string>();
  const symbols: CodeSymbol[] = [];
  for (const symbol of found) {
    if (anyPublic && !symbol.public) continue;
    const name = symbol.name.length > MAX_NAME ? `${symbol.name.slice(0, MAX_NAME - 1)}…` : symbol.name;
    const key = `${symbol.kind} ${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    symbols.push({ kind: symbol.kind, name });
  }
  return symbols;
}

function collect(content: string, pattern: RegExp, found: Found[], toSymbol: (match: RegExpExecArray) => Omit<Found, "index"> | undefined): void {
  pattern.lastIndex = 0;
  let count = 0;
  for (let match = pattern.exec(content); match !== null && count < MAX_SCANNED; match = pattern.exec(content)) {
    const symbol = toSymbol(match);
    if (symbol) {
      found.push({ ...symbol, index: match.index });
      count += 1;
    }
  }
}

const TS_KINDS: Record<string, string> = { function: "fn", "function*": "fn", class: "class", interface: "interface", type: "type", enum: "enum", const: "const", let: "const", var: "const", namespace: "mod", module: "mod" };
const TS_DECLARATION =
  /^(export[ \t]+(?:default[ \t]+)?)?(?:declare[ \t]+)?(?:abstract[ \t]+)?(?:async[ \t]+)?(function\*?|class|interface|type|enum|const|let|var|namespace)[ \t]+([A-Za-z_$][\w$]*)/gm;
const TS_EXPORT_LIST = /^export[ \t]+(?:type[ \t]+)?\{([^}]*)\}/gm;
const CJS_EXPORT = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)[ \t]*=/gm;

function extractTypeScript(content: string, found: Found[]): void {
  collect(content, TS_DECLARATION, found, (m) => {
    const kind = TS_KINDS[m[2]!]!;
    // Unexported top-level variables are implementation details, not worth a mention.
    if (m[1] === undefined && kind === "const") return undefined;
    return { kind, name: m[3]!, public: m[1] !== undefined };
  });
  // `export { a, b as c }` (an index file's re-exports): one symbol per name, in order.
  collect(content, TS_EXPORT_LIST, found, (m) => {
    const names = m[1]!
      .split(",")
      .map((item) => item.trim().split(/[ \t\n]+as[ \t\n]+/).pop()!.replace(/^type[ \t]+/, ""))
      .filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
    names.forEach((name, offset) => found.push({ kind: "export", name, public: true, index: m.index + offset }));
    return undefined;
  });
  collect(content, CJS_EXPORT, found, (m) => ({ kind: "const", name: m[1]!, public: true }));
}

const PY_DECLARATION = /^(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)/gm;

function extractPython(content: string, found: Found[]): void {
  collect(content, PY_DECLARATION, found, (m) => ({ kind: m[1] === "def" ? "fn" : "class", name: m[2]!, public: !m[2]!.startsWith("_") }));
}

const GO_FUNC = /^func[ \t]*(?:\([ \t]*(?:\w+[ \t]+)?\*?[ \t]*(\w+)(?:\[[^\]\n]*\])?[ \t]*\)[ \t]*)?(\w+)/gm;
const GO_TYPE = /^type[ \t]+(\w+)(?:\[[^\]\n]*\])?[ \t]+(struct|interface)?/gm;

function extractGo(content: string, found: Found[]): void {
  collect(content, GO_FUNC, found, (m) => ({
    kind: "fn",
    name: m[1] ? `${m[1]}.${m[2]!}` : m[2]!,
    public: isCapitalized(m[2]!) && (m[1] === undefined || isCapitalized(m[1])),
  }));
  collect(content, GO_TYPE, found, (m) => ({ kind: m[2] ?? "type", name: m[1]!, public: isCapitalized(m[1]!) }));
}

const RUST_ITEM =
  /^([ \t]{0,4})(pub(?:\([^)\n]*\))?[ \t]+)?(?:(?:async|unsafe|const|extern(?:[ \t]+"[^"\n]*")?)[ \t]+)*(fn|struct|enum|trait|type|mod|union)[ \t]+(\w+)/gm;
const RUST_IMPL = /^impl(?:<[^\n{]*?>)?[ \t]+(?:(!?[\w:]+(?:<[^\n{]*?>)?)[ \t]+for[ \t]+)?([\w:]+)/gm;

function extractRust(content: string, found: Found[]): void {
  collect(content, RUST_ITEM, found, (m) => {
    // Indented items are members of an impl or a mod: keep them only when public.
    if (m[1] !== "" && m[2] === undefined) return undefined;
    return { kind: m[3]!, name: m[4]!, public: m[2] !== undefined };
  });
  collect(content, RUST_IMPL, found, (m) => ({ kind: "impl", name: m[1] ? `${m[1]} for ${m[2]!}` : m[2]!, public: true }));
}

const JAVA_TYPE = /^[ \t]*((?:(?:public|protected|private|abstract|final|static|sealed|non-sealed|strictfp)[ \t]+)*)(class|interface|enum|record|@interface)[ \t]+(\w+)/gm;
const JAVA_METHOD =
  /^[ \t]+public[ \t]+(?:(?:static|final|synchronized|abstract|native|default)[ \t]+)*(?:<[^>\n]*>[ \t]+)?[\w.$]+(?:<[^\n(]*>)?(?:\[\])*[ \t]+(\w+)[ \t]*\(/gm;

function extractJava(content: string, found: Found[]): void {
  collect(content, JAVA_TYPE, found, (m) => ({ kind: m[2] === "@interface" ? "interface" : m[2] === "record" ? "class" : m[2]!, name: m[3]!, public: !m[1]!.includes("private") }));
  collect(content, JAVA_METHOD, found, (m) => ({ kind: "fn", name: m[1]!, public: true }));
}

const KOTLIN_MODIFIERS = "(?:(?:public|internal|private|protected|open|abstract|sealed|data|enum|annotation|inner|value|inline|final|expect|actual|override|suspend|operator|infix|tailrec|external|companion)[ \\t]+)*";
const KOTLIN_TYPE = new RegExp(`^[ \\t]*(${KOTLIN_MODIFIERS})(class|interface|object)[ \\t]+(\\w+)`, "gm");
const KOTLIN_FUN = new RegExp(`^[ \\t]*(${KOTLIN_MODIFIERS})fun[ \\t]+(?:<[^>\\n]*>[ \\t]*)?(?:[\\w.]+(?:<[^>\\n]*>)?\\??\\.)?(\\w+)[ \\t]*\\(`, "gm");

function extractKotlin(content: string, found: Found[]): void {
  const isPublic = (modifiers: string) => !/\b(?:private|internal|protected)\b/.test(modifiers);
  collect(content, KOTLIN_TYPE, found, (m) => ({ kind: m[2] === "object" ? "class" : m[2]!, name: m[3]!, public: isPublic(m[1]!) }));
  collect(content, KOTLIN_FUN, found, (m) => ({ kind: "fn", name: m[2]!, public: isPublic(m[1]!) }));
}

const RUBY_TYPE = /^[ \t]*(class|module)[ \t]+([A-Z][\w:]*)/gm;
const RUBY_DEF = /^[ \t]*def[ \t]+(self\.)?([A-Za-z_]\w*[?!=]?)/gm;

function extractRuby(content: string, found: Found[]): void {
  collect(content, RUBY_TYPE, found, (m) => ({ kind: m[1] === "module" ? "mod" : "class", name: m[2]!, public: true }));
  collect(content, RUBY_DEF, found, (m) => ({ kind: "fn", name: `${m[1] ?? ""}${m[2]!}`, public: !m[2]!.startsWith("_") }));
}

// A definition starts at column 0 with a return type, then the name and `(`; the rest of
// the line has no `;` (that would be a declaration or a call). Lines over 300 characters
// are skipped: generated tables, not functions, and they would make backtracking costly.
const C_FUNCTION = /^(?=[^\n]{0,300}$)([A-Za-z_][\w \t*&:<>,]*)[ \t*&](~?[A-Za-z_][\w:~]*)[ \t]*\(([^;\n]*)$/gm;
const C_PROTOTYPE = /^(?=[^\n]{0,300}$)([A-Za-z_][\w \t*&:<>,]*)[ \t*&](~?[A-Za-z_][\w:~]*)[ \t]*\([^\n]*$/gm;
const C_TYPE = /^(?:typedef[ \t]+)?(struct|union|enum|class)[ \t]+(\w+)[ \t]*(?:final[ \t]*)?(?::[^;{\n]*)?\{?[ \t]*$/gm;
const C_NOT_FUNCTIONS = new Set(["if", "for", "while", "switch", "return", "sizeof", "else", "do", "case", "defined", "typedef", "using", "namespace", "template", "extern"]);

function extractC(content: string, found: Found[], path: string): void {
  const header = /\.(?:h|hh|hpp|hxx)$/i.test(path);
  collect(content, header ? C_PROTOTYPE : C_FUNCTION, found, (m) => {
    const firstWord = /^\w+/.exec(m[1]!)?.[0] ?? "";
    if (C_NOT_FUNCTIONS.has(m[2]!) || C_NOT_FUNCTIONS.has(firstWord)) return undefined;
    return { kind: "fn", name: m[2]!, public: firstWord !== "static" };
  });
  collect(content, C_TYPE, found, (m) => ({ kind: m[1] === "union" ? "struct" : m[1]!, name: m[2]!, public: true }));
}

const EXTRACTORS: Record<Language, Extractor> = {
  ts: extractTypeScript,
  python: extractPython,
  go: extractGo,
  rust: extractRust,
  java: extractJava,
  kotlin: extractKotlin,
  ruby: extractRuby,
  c: extractC,
};

function isCapitalized(name: string): boolean {
  const first = name.charCodeAt(0);
  return first >= 65 && first <= 90;
}
