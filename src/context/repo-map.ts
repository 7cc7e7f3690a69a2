/**
 * The repository map the explore agent starts from: the tree, with the main symbols of each
 * file, ranked for the task and cut to a token budget, saying how much it left out.
 *
 * `buildRepoMap` is the pure core (paths, sizes and whatever contents were read → text);
 * `mapCommit` lists and reads the checked-out commit in the job's work repository on the
 * worker (repo-map-git.ts) and calls it. The I/O reads only files the map can use: the best
 * candidates by path, a number set by the budget, so a 50,000-file repository costs two git
 * processes, whatever its size. Symbols of files not read are not known: a file that only
 * its symbols (not its path) tie to the task is found only if it was among the candidates.
 *
 * The map's text comes from the repository (file and symbol names): it is untrusted data, to
 * be fenced like any other (`fenceUntrusted`) where it enters a prompt.
 */
import { JobError } from "../job-error.ts";
import { createClassifier, SKIP_REASONS, skipReasonOfContent, type FileClass, type SkipReason } from "./repo-map-files.ts";
import { listCommitFiles, readBlobs } from "./repo-map-git.ts";
import { createScorer, focusWordsOf, type Scorer } from "./repo-map-rank.ts";
import { renderWithinBudget, subtreeTotalsOf, type MapEntry } from "./repo-map-render.ts";
import { extractSymbols, type CodeSymbol } from "./repo-map-symbols.ts";
import { estimateTokens } from "./tokens.ts";
import { budgetOf } from "./truncate.ts";

export interface RepoFile {
  path: string;
  /** Bytes. */
  size: number;
  /** The file's text, when it was read; files without it are listed by name only. */
  content?: string;
}

export interface RepoMap {
  text: string;
  filesListed: number;
  /** Every file given, mapped or not. */
  filesTotal: number;
  /** `text`'s tokens by `estimateTokens`, as the rest of the context budget counts them. */
  tokens: number;
  /** Whether the budget left out files that would have been listed. */
  truncated: boolean;
}

export interface RepoMapOptions {
  maxTokens: number;
  /** Words from the task; files whose path or symbols mention them rank higher. */
  focus?: string[];
}

/** At most this many symbols on a file's line; the rest are counted. */
const MAX_SYMBOLS = 8;
/** Reading more than this for one map costs more time than the map is worth. */
const MAX_READ_BYTES = 8 * 1024 * 1024;

/** The map of `files` within `options.maxTokens` (unless even the counts alone do not fit; then it is the counts alone). */
export function buildRepoMap(files: readonly RepoFile[], options: RepoMapOptions): RepoMap {
  return buildFromSurvey(files, surveyPaths(files, focusWordsOf(options.focus)), options);
}

/**
 * The map of commit `sha` of the git repository `gitDir` on this host (a job's work
 * repository, which holds what its sandbox checked out): every file, symbols for the best
 * candidates.
 */
export async function mapCommit(gitDir: string, sha: string, options: RepoMapOptions): Promise<RepoMap> {
  try {
    // 1. Every path with its size and blob id.
    const listed = await listCommitFiles(gitDir, sha);
    // 2. Rank by path alone and choose what to read.
    const survey = surveyPaths(listed, focusWordsOf(options.focus));
    const wanted = chooseToRead(listed, survey, options.maxTokens);
    // 3. Read the chosen files in one go.
    const contents = await readBlobs(gitDir, [...new Set(wanted.map((file) => file.objectId))]);
    // 4. The pure core, reusing the ranking by path.
    const files = listed.map(({ path, size, objectId }): RepoFile => ({ path, size, content: contents.get(objectId) }));
    return buildFromSurvey(files, survey, options);
  } catch (error) {
    throw new JobError("clone", `Mapping the repository failed: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
  }
}

/** The files `mapCommit` reads for these options, best first. */
export function filesToRead<T extends Omit<RepoFile, "content">>(files: readonly T[], options: RepoMapOptions): T[] {
  return chooseToRead(files, surveyPaths(files, focusWordsOf(options.focus)), options.maxTokens);
}

/** What the paths alone say, worked out once for both choosing what to read and ranking. */
interface Survey {
  classes: FileClass[];
  pathScores: number[];
  scorer: Scorer;
}

function surveyPaths(files: readonly Omit<RepoFile, "content">[], focusWords: readonly string[]): Survey {
  const classify = createClassifier();
  const scorer = createScorer(focusWords);
  const classes = files.map((file) => classify(file.path, file.size));
  return { classes, pathScores: classes.map((fileClass) => scorer.scorePath(fileClass)), scorer };
}

/**
 * Mappable source in a language we extract symbols from, best by path first: one file per
 * 8 tokens of budget (50 to 2,000), several times what the map can show (a line with
 * symbols costs 10-30 tokens), so that symbols matching the task can still lift a file its
 * path did not. Reading is cheap next to listing: one `cat-file` for all of them.
 */
function chooseToRead<T extends Omit<RepoFile, "content">>(files: readonly T[], survey: Survey, maxTokens: number): T[] {
  const limit = Math.min(2000, Math.max(50, Math.ceil(budgetOf(maxTokens) / 8)));
  const candidates: number[] = [];
  survey.classes.forEach((fileClass, index) => {
    if (fileClass.skip === undefined && fileClass.language !== undefined) candidates.push(index);
  });
  const keys = survey.classes.map((fileClass, index) => rankKey(fileClass.lowTier, survey.pathScores[index]!));
  candidates.sort((a, b) => keys[b]! - keys[a]! || comparePaths(files[a]!.path, files[b]!.path));
  const chosen: T[] = [];
  let bytes = 0;
  for (const index of candidates) {
    const file = files[index]!;
    if (chosen.length >= limit || bytes + file.size > MAX_READ_BYTES) break;
    chosen.push(file);
    bytes += file.size;
  }
  return chosen;
}

function buildFromSurvey(files: readonly RepoFile[], survey: Survey, options: RepoMapOptions): RepoMap {
  const ranked: RankedEntry[] = [];
  const skipped = new Map<SkipReason, number>(SKIP_REASONS.map((reason) => [reason, 0]));
  files.forEach((file, index) => {
    const fileClass = survey.classes[index]!;
    const skip = fileClass.skip ?? (file.content === undefined ? undefined : skipReasonOfContent(file.content));
    if (skip !== undefined) {
      skipped.set(skip, skipped.get(skip)! + 1);
      return;
    }
    const symbols = file.content !== undefined && fileClass.language ? extractSymbols(fileClass.language, file.content, file.path) : [];
    ranked.push({
      path: file.path,
      dir: fileClass.dir,
      name: fileClass.name,
      line: symbols.length === 0 ? fileClass.name : `${fileClass.name}: ${describeSymbols(symbols)}`,
      key: rankKey(fileClass.lowTier, survey.pathScores[index]! + survey.scorer.scoreSymbols(symbols)),
    });
  });
  ranked.sort((a, b) => b.key - a.key || comparePaths(a.path, b.path));
  const disclosure = { subtreeTotals: subtreeTotalsOf(ranked.map((entry) => entry.dir)), skipped, filesTotal: files.length };
  const { text, listed, tokens } = renderWithinBudget(ranked, disclosure, budgetOf(options.maxTokens), estimateTokens);
  return { text, filesListed: listed, filesTotal: files.length, tokens, truncated: listed < ranked.length };
}

interface RankedEntry extends MapEntry {
  /** Higher first. */
  key: number;
}

/** `fn main, start; class Server; +3 more`: kinds in order of first appearance, names in source order. */
export function describeSymbols(symbols: readonly CodeSymbol[]): string {
  const byKind = new Map<string, string[]>();
  for (const symbol of symbols.slice(0, MAX_SYMBOLS)) {
    const names = byKind.get(symbol.kind);
    if (names) names.push(symbol.name);
    else byKind.set(symbol.kind, [symbol.name]);
  }
  const groups = [...byKind].map(([kind, names]) => `${kind} ${names.join(", ")}`);
  if (symbols.length > MAX_SYMBOLS) groups.push(`+${symbols.length - MAX_SYMBOLS} more`);
  return groups.join("; ");
}

/** Generated and vendored files last whatever their score (scores stay far below 1e6), then higher score first. */
function rankKey(lowTier: boolean, score: number): number {
  return lowTier ? score - 1e6 : score;
}

/** Code-unit order, the same on every machine (no locale). */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
