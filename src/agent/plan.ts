/**
 * The plan phase's answer: asked for as JSON in a ```json fence, read from that, from a
 * bare JSON object, or failing both from a Markdown list (models under pressure fall back
 * to prose). A plan without steps reads as null so the caller can re-prompt once with
 * PLAN_CORRECTION_PROMPT. Nothing here throws on model output.
 */
import { planSchema } from "./plan.schema.ts";
import { parseJson } from "../json.ts";

export interface PlanStep {
  title: string;
  detail: string;
  /** Repository paths the step creates or changes. */
  files: string[];
}

export interface Plan {
  summary: string;
  steps: PlanStep[];
}

export const PLAN_FORMAT_INSTRUCTIONS = [
  "Answer with the plan as a single JSON object in a ```json fenced block, in this shape:",
  "```json",
  "{",
  '  "summary": "One or two sentences: what will change and why.",',
  '  "steps": [',
  '    { "title": "A short imperative title", "detail": "What to do, specific enough to implement without re-reading the code.", "files": ["src/example.ts"] }',
  "  ]",
  "}",
  "```",
  "- 1 to 30 steps, in the order to do them; titles under 200 characters.",
  '- "files" lists the paths (from the repository root) the step creates or changes; [] when none.',
  "- Make adding or updating tests one or more of the steps.",
].join("\n");

export const PLAN_CORRECTION_PROMPT = [
  "Your answer could not be read as a plan: it has no steps in the expected format.",
  "Reply again with only the plan, as one JSON object in a ```json fenced block:",
  '{"summary": "...", "steps": [{"title": "...", "detail": "...", "files": ["path/from/repo/root"]}]}',
  "Do not explore further; use what you already know.",
].join("\n");

/** The plan in `text`, or null when it has no steps. */
export function parsePlan(text: string): Plan | null {
  for (const candidate of jsonCandidates(text)) {
    const plan = planFromValue(candidate);
    if (plan) return plan;
  }
  return planFromValue(markdownPlanOf(text));
}

/** The plan as a numbered checklist (for the check run and the build prompt). */
export function renderPlanMarkdown(plan: Plan): string {
  const steps = plan.steps.map((step, index) => {
    const lines = [`${index + 1}. [ ] ${step.title}`];
    for (const line of step.detail.split("\n")) if (line.trim() !== "") lines.push(`   ${line.trimEnd()}`);
    if (step.files.length > 0) lines.push(`   Files: ${step.files.map((file) => `\`${file}\``).join(", ")}`);
    return lines.join("\n");
  });
  return [plan.summary, steps.length > 0 ? steps.join("\n") : "_No steps._"].filter((part) => part !== "").join("\n\n");
}

function planFromValue(value: unknown): Plan | null {
  const parsed = planSchema.safeParse(value);
  if (!parsed.success || parsed.data.steps.length === 0) return null;
  const plan: Plan = parsed.data;
  return plan;
}

// --- JSON -------------------------------------------------------------------------------

const FENCE = /```[ \t]*([\w-]*)[^\n]*\n([\s\S]*?)```/g;

/** Parsed JSON values that may be the plan: fenced blocks (```json first), the whole text, the outermost braces. */
function* jsonCandidates(text: string): Generator<unknown> {
  const fences = [...text.matchAll(FENCE)].map((match) => ({ language: match[1].toLowerCase(), body: match[2].trim() }));
  const sources = [
    ...fences.filter((fence) => fence.language.startsWith("json")).map((fence) => fence.body),
    ...fences.filter((fence) => !fence.language.startsWith("json") && fence.body.startsWith("{")).map((fence) => fence.body),
    text.trim(),
    text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1),
  ];
  for (const source of new Set(sources)) {
    if (!source.startsWith("{")) continue;
    const value = parseJson(source);
    if (value !== undefined) yield value;
  }
}


// --- Markdown ---------------------------------------------------------------------------

const LIST_ITEM = /^(\s*)(?:(\d{1,3})[.)]|[-*+])\s+(\S.*)$/;
/** A task-list checkbox, as renderPlanMarkdown writes: `1. [ ] Title`. */
const TASK_BOX = /^\[[ xX]\]\s+/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*)$/;
const STEPS_HEADING = /\b(?:plan|steps?|changes|tasks?|implementation|approach)\b/i;
const CODE_SPAN = /`([^`\n]+)`/g;
const FILE_EXTENSION =
  /\.(?:[cm]?[jt]sx?|json5?|md|mdx|py|pyi|go|rs|java|kts?|scala|rb|php|cs|fs|swift|c|h|cc|cpp|hpp|m|mm|ya?ml|toml|ini|cfg|conf|env|sql|prisma|graphql|proto|sh|bash|zsh|ps1|css|scss|sass|less|html?|vue|svelte|astro|xml|gradle|lock|txt|csv|tf|hcl|dockerfile|mod|sum)$/i;
const BARE_FILE_NAMES = new Set(["Makefile", "Dockerfile", "Gemfile", "Rakefile", "Procfile", "Justfile", "LICENSE", "CODEOWNERS"]);

interface ListItem {
  indent: number;
  numbered: boolean;
  text: string;
  /** Lines after the item that belong to it (more indented), as written. */
  body: string[];
}

interface Section {
  heading: string;
  items: ListItem[];
  prose: string[];
}

/** A raw plan object (to be validated like JSON) from a Markdown list. */
function markdownPlanOf(text: string): unknown {
  const sections = sectionsOf(withoutCodeBlocks(text));
  const chosen =
    sections.find((section) => STEPS_HEADING.test(section.heading) && section.items.length > 0) ??
    sections.find((section) => section.items.some((item) => item.numbered)) ??
    sections.find((section) => section.items.length > 0);
  if (!chosen) return { steps: [] };
  const numbered = chosen.items.some((item) => item.numbered);
  const candidates = chosen.items.filter((item) => item.numbered === numbered);
  const indent = Math.min(...candidates.map((item) => item.indent));
  const steps = chosen.items.filter((item) => item.numbered === numbered && item.indent === indent).map(stepOf);
  const summary = sections.flatMap((section) => section.prose).find((paragraph) => paragraph !== "") ?? "";
  return { summary, steps };
}

function stepOf(item: ListItem): { title: string; detail: string; files: string[] } {
  // "**Add the parser**: create it…" → the bold part is the title, the rest is detail.
  const bold = /^\*\*(.+?)\*\*[\s:.—–-]*(.*)$/.exec(item.text);
  const title = (bold ? bold[1] : item.text).replace(/[:\s]+$/, "");
  const detailLines = [...(bold && bold[2] !== "" ? [bold[2]] : []), ...dedent(item.body)];
  const detail = detailLines.join("\n").trim();
  return { title, detail, files: filesIn(`${item.text}\n${detail}`) };
}

/** Backticked words that look like file paths: with a slash, a known extension or a known name. */
function filesIn(text: string): string[] {
  return [...text.matchAll(CODE_SPAN)]
    .map((match) => match[1].trim().replace(/:\d+(?::\d+)?$/, ""))
    .filter((word) => /^[\w./@+-]+$/.test(word) && !/^\.+$/.test(word))
    .filter((word) => (word.includes("/") && !word.startsWith("//")) || FILE_EXTENSION.test(word) || BARE_FILE_NAMES.has(word));
}

function sectionsOf(lines: readonly string[]): Section[] {
  const sections: Section[] = [{ heading: "", items: [], prose: [] }];
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length > 0) sections.at(-1)!.prose.push(paragraph.join(" "));
    paragraph = [];
  };
  for (const line of lines) {
    const section = sections.at(-1)!;
    const heading = HEADING.exec(line);
    if (heading) {
      endParagraph();
      sections.push({ heading: heading[1], items: [], prose: [] });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    const last = section.items.at(-1);
    if (item) {
      endParagraph();
      const indent = item[1].replace(/\t/g, "    ").length;
      // A more indented item belongs to the one above it (a sub-point, kept as detail).
      if (last && indent > last.indent) last.body.push(line);
      else section.items.push({ indent, numbered: item[2] !== undefined, text: item[3].replace(TASK_BOX, "").trim(), body: [] });
      continue;
    }
    if (line.trim() === "") {
      endParagraph();
      if (last) last.body.push("");
      continue;
    }
    const indent = /^\s*/.exec(line)![0].replace(/\t/g, "    ").length;
    if (last && indent > last.indent) last.body.push(line);
    else if (section.items.length === 0) paragraph.push(line.trim());
  }
  endParagraph();
  return sections;
}

/** The lines outside fenced code blocks (JSON or code in a fence is not a list). */
function withoutCodeBlocks(text: string): string[] {
  const kept: string[] = [];
  let fence: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line);
    if (marker && (fence === null || marker[1].startsWith(fence))) {
      fence = fence === null ? marker[1] : null;
      continue;
    }
    if (fence === null) kept.push(line);
  }
  return kept;
}

function dedent(lines: readonly string[]): string[] {
  const indents = lines.filter((line) => line.trim() !== "").map((line) => /^\s*/.exec(line)![0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(common).trimEnd());
}
