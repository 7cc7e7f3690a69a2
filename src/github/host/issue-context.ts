import type { ProbotOctokit } from "probot";
import type { IssueContextInput, IssueReference, WrittenText } from "../../jobs/issue-task.ts";
import { MAX_REFERENCES } from "../../jobs/issue-task.ts";
import { isBot, writeAccessOf, type RoleLookup } from "../authorize-sender.ts";
import { githubJobError, statusOf } from "../http-status.ts";
import { referencedNumbers } from "./issue-references.ts";

export interface IssueWindow {
  owner: string;
  repo: string;
  issueNumber: number;
  /** The `/agent` comment: the task itself, not discussion. Null for a label or the API. */
  triggerCommentId: number | null;
  /** When the job was asked for: later comments, and comments edited later, were not what the requester saw. */
  requestedAt: Date;
  /** The task: a `#N` in it is followed too. */
  task: string;
}

/** Comments read at most: a thread longer than this is shown from its newest end anyway. */
const MAX_COMMENTS_READ = 1_000;
/** Comments whose authors' access is asked: the budget keeps fewer. */
export const MAX_DISCUSSION_ENTRIES = 50;

export interface GatheredIssue {
  /** Where the issue lives on the web (`https://github.com`): attachment links are judged against it. */
  webOrigin: string;
  context: IssueContextInput;
}

/**
 * Everything a person opening the issue would read, as GitHub has it when the job starts:
 * the description, the comments before the request (bots' left out: our own progress
 * comments among them), and the issues and pull requests they point to, one level deep.
 * Every author's access is asked, so the text can be marked. Null when the issue is gone.
 */
export async function gatherIssueContext(octokit: ProbotOctokit, window: IssueWindow, lookUpRole: RoleLookup): Promise<GatheredIssue | null> {
  const issue = await readIssue(octokit, window, window.issueNumber);
  if (!issue) return null;
  const webOrigin = new URL(issue.html_url).origin;
  const mayWrite = writeAccessOf(octokit, window.owner, window.repo, lookUpRole);
  const comments = await readComments(octokit, window);
  const discussion = await Promise.all(comments.map(async (comment) => ({ ...comment, writer: await mayWrite({ login: comment.author, type: "User" }) })));
  const place = { webOrigin, owner: window.owner, repo: window.repo };
  const numbers = referencedNumbers([window.task, issue.body ?? "", ...discussion.map((entry) => entry.body)], place, window.issueNumber, MAX_REFERENCES);
  const notes: string[] = [];
  const references: IssueReference[] = [];
  for (const number of numbers) {
    const referenced = await readIssue(octokit, window, number);
    if (!referenced?.user) {
      notes.push(`#${number}, which could not be read`);
      continue;
    }
    references.push({
      number,
      kind: referenced.pull_request ? "pull request" : "issue",
      state: referenced.pull_request?.merged_at ? "merged" : referenced.state,
      title: referenced.title,
      body: referenced.body ?? "",
      author: referenced.user.login,
      writer: await mayWrite(referenced.user),
      createdAt: new Date(referenced.created_at),
    });
  }
  const author = issue.user ?? { login: "ghost", type: "User" };
  return {
    webOrigin,
    context: {
      issue: { number: window.issueNumber, author: author.login, writer: await mayWrite(author), createdAt: new Date(issue.created_at), body: issue.body ?? "" },
      discussion,
      references,
      images: [],
      notes,
    },
  };
}

type Issue = Awaited<ReturnType<ProbotOctokit["rest"]["issues"]["get"]>>["data"];

async function readIssue(octokit: ProbotOctokit, window: IssueWindow, number: number): Promise<Issue | null> {
  try {
    const { data } = await octokit.rest.issues.get({ owner: window.owner, repo: window.repo, issue_number: number });
    return data;
  } catch (error) {
    // Gone, moved to another repository, or never there (a `#N` in prose): there is nothing to read.
    if (statusOf(error) === 404 || statusOf(error) === 410) return null;
    throw githubJobError(error, `reading issue #${number}`);
  }
}

/** The newest comments before the request, oldest first, by people (not bots), unedited since. */
async function readComments(octokit: ProbotOctokit, window: IssueWindow): Promise<Array<Omit<WrittenText, "writer">>> {
  const comments: Array<Omit<WrittenText, "writer">> = [];
  try {
    const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, { owner: window.owner, repo: window.repo, issue_number: window.issueNumber, per_page: 100 });
    let read = 0;
    for await (const page of pages) {
      for (const comment of page.data) {
        read += 1;
        if (!comment.user || isBot(comment.user) || comment.id === window.triggerCommentId) continue;
        const createdAt = new Date(comment.created_at);
        if (createdAt > window.requestedAt || new Date(comment.updated_at) > window.requestedAt) continue;
        if ((comment.body ?? "").trim() === "") continue;
        comments.push({ author: comment.user.login, createdAt, body: comment.body ?? "" });
      }
      if (read >= MAX_COMMENTS_READ) break;
    }
  } catch (error) {
    if (statusOf(error) === 404 || statusOf(error) === 410) return [];
    throw githubJobError(error, "reading the issue's comments");
  }
  return comments.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).slice(-MAX_DISCUSSION_ENTRIES);
}
