import type { ProbotOctokit } from "probot";
import { sanitizeUntrusted } from "../../context/sanitize.ts";
import { readCheckpoint, withCheckpoint } from "../../jobs/checkpoint.ts";
import {
  ATTACHMENTS_DIR,
  keepForMode,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS,
  renderIssueContext,
  type IssueContextInput,
  type IssueContextMode,
  type WrittenText,
} from "../../jobs/issue-task.ts";
import type { JobRun } from "../../jobs/job-run.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { excludeFromCommits } from "../../sandbox/git-workspace.ts";
import type { Job } from "../../store/jobs.sql.ts";
import type { RoleLookup } from "../authorize-sender.ts";
import { findAttachmentLinks } from "./attachment-links.ts";
import { downloadImage } from "./download-attachment.ts";
import { gatherIssueContext } from "./issue-context.ts";

/**
 * A job started from an issue works from what a person opening the issue would read (see
 * issue-task.ts for how it is shown). These are the steps it adds to the recipe: gather and
 * render that once, before the sandbox exists, and put the issue's images into the sandbox
 * once it does.
 */
export interface IssueContextDeps {
  octokit: ProbotOctokit;
  lookUpRole: RoleLookup;
  mode: IssueContextMode;
  /** The installation's token: GitHub answers an attachment link with signed storage only to it. */
  token: () => Promise<string>;
  /** Images downloaded while preparing, by URL, so that the sandbox gets them without a second download. */
  downloaded: Map<string, Buffer>;
}

/** Jobs of their own on an issue: a follow-up has its pull request's discussion, a pipeline step its template. */
export function takesIssueContext(job: Job): boolean {
  return job.followUp === null && job.pipelineRunId === null && job.issueNumber > 0 && !job.isPullRequest;
}

/** Rendered once and kept in the checkpoint, so that a retry shows the agent the same (nothing said after the request gets in). */
export async function prepareIssueContext(run: JobRun, deps: IssueContextDeps): Promise<void> {
  const job = run.job;
  if (!takesIssueContext(job) || readCheckpoint(job).issue) return;
  const gathered = await gatherIssueContext(
    deps.octokit,
    { owner: job.repoOwner, repo: job.repoName, issueNumber: job.issueNumber, triggerCommentId: job.triggerCommentId, requestedAt: job.createdAt, task: job.task },
    deps.lookUpRole,
  );
  if (!gathered) {
    const given = [`issue #${job.issueNumber} could not be read (deleted, or moved to another repository): the task alone`];
    await run.record({ checkpoint: withCheckpoint(job, "issue", { context: "", given, attachments: [] }) });
    await run.event("issue_context", given[0]!);
    return;
  }
  const { context, attachments } = await withImages(sanitized(keepForMode(gathered.context, deps.mode)), gathered.webOrigin, run, deps);
  const rendered = renderIssueContext(context);
  await run.record({ checkpoint: withCheckpoint(run.job, "issue", { context: rendered.text, given: rendered.given, attachments, webOrigin: gathered.webOrigin }) });
  await run.event("issue_context", `given with the task: ${rendered.given.join("; ") || "the issue's title only"}`, { given: rendered.given });
}

/** The issue's images into the sandbox (downloaded again where this worker has not got them), kept out of the commit. */
export async function attachIssueImages(run: JobRun, sandbox: Sandbox, deps: Pick<IssueContextDeps, "token" | "downloaded">): Promise<void> {
  const saved = readCheckpoint(run.job).issue;
  const attachments = saved?.attachments ?? [];
  if (attachments.length === 0) return;
  await excludeFromCommits(sandbox, [ATTACHMENTS_DIR.split("/")[0]!], "files Running Agent gave the agent (the issue's images)");
  const webOrigin = saved?.webOrigin ?? "https://github.com";
  for (const attachment of attachments) {
    const bytes = deps.downloaded.get(attachment.url) ?? (await downloadAgain(attachment.url, webOrigin, deps));
    if (typeof bytes === "string") {
      await run.event("issue_context", `${attachment.file} is missing from the sandbox: ${bytes}`);
      continue;
    }
    await sandbox.writeFile(attachment.file, bytes);
  }
}

async function downloadAgain(url: string, webOrigin: string, deps: Pick<IssueContextDeps, "token" | "downloaded">): Promise<Buffer | string> {
  const image = await downloadImage(url, { webOrigin, token: deps.token, maxBytes: MAX_ATTACHMENT_BYTES });
  if (!image.ok) return image.reason;
  deps.downloaded.set(url, image.bytes);
  return image.bytes;
}

interface Source {
  where: string;
  text: () => string;
  replace: (from: string, to: string) => void;
}

/**
 * Downloads the first images the kept text links to (at most MAX_ATTACHMENTS) and points
 * each link at its file. Links are found in the sanitized text, so an image hidden in an
 * HTML comment, which nobody reading the issue sees, is never fetched.
 */
async function withImages(input: IssueContextInput, webOrigin: string, run: JobRun, deps: IssueContextDeps): Promise<{ context: IssueContextInput; attachments: Array<{ url: string; file: string }> }> {
  const issue = { ...input.issue };
  const discussion = input.discussion.map((entry) => ({ ...entry }));
  const sources: Source[] = [sourceOf("the description", issue), ...discussion.map((entry) => sourceOf(`a comment by @${entry.author}`, entry))];
  const place = { webOrigin, owner: run.job.repoOwner, repo: run.job.repoName };
  const links = sources.flatMap((source) => findAttachmentLinks(source.text(), place).map((url) => ({ url, where: source.where })));
  const unique = links.filter((link, index) => links.findIndex((other) => other.url === link.url) === index);
  const images: Array<{ file: string; where: string }> = [];
  const attachments: Array<{ url: string; file: string }> = [];
  const notes = [...input.notes];
  for (const [index, link] of unique.entries()) {
    if (images.length >= MAX_ATTACHMENTS) {
      notes.push(`${unique.length - index} more image link(s): at most ${MAX_ATTACHMENTS} are downloaded`);
      break;
    }
    const image = await downloadImage(link.url, { webOrigin, token: deps.token, maxBytes: MAX_ATTACHMENT_BYTES });
    if (!image.ok) {
      notes.push(`an image in ${link.where}, not downloaded: ${image.reason}`);
      continue;
    }
    const file = `${ATTACHMENTS_DIR}/image-${images.length + 1}.${image.extension}`;
    deps.downloaded.set(link.url, image.bytes);
    for (const source of sources) source.replace(link.url, file);
    images.push({ file, where: link.where });
    attachments.push({ url: link.url, file });
  }
  return { context: { ...input, issue, discussion, images, notes }, attachments };
}

function sourceOf(where: string, written: WrittenText): Source {
  return { where, text: () => written.body, replace: (from, to) => (written.body = written.body.split(from).join(to)) };
}

/** The texts as the agent will see them: links are looked for in what a reader of the issue sees. */
function sanitized(input: IssueContextInput): IssueContextInput {
  return { ...input, issue: { ...input.issue, body: sanitizeUntrusted(input.issue.body) }, discussion: input.discussion.map((entry) => ({ ...entry, body: sanitizeUntrusted(entry.body) })) };
}
