import { REPOSITORY } from "./http.ts";

/** Why a `repo_url` names no repository this server can work on, in words for the client. */
export type RepositoryUrlProblem = "credentials" | "host" | "form";

/**
 * The repository a `repo_url` names, in any form GitHub shows it: `https://github.com/o/r`
 * (with `.git` or a trailing slash), `git@github.com:o/r.git`, `ssh://git@github.com/o/r.git`,
 * `git://github.com/o/r.git`. Only on `host` (github.com, or the GitHub Enterprise host). A
 * URL that carries credentials is refused, so a token pasted into it is never taken (nor echoed).
 */
export function parseRepositoryUrl(text: string, host: string): { owner: string; name: string } | { problem: RepositoryUrlProblem } {
  const trimmed = text.trim();
  if (!trimmed.includes("://") && trimmed.includes(":")) {
    // scp-like syntax: [git@]host:owner/name[.git]
    const scp = /^(?:([^@/:\s]+)@)?([^@/:\s]+):(\S+)$/.exec(trimmed);
    if (!scp) return { problem: "form" };
    if (scp[1] !== undefined && scp[1] !== "git") return { problem: "credentials" };
    return scp[2]!.toLowerCase() === host.toLowerCase() ? pathOf(scp[3]!) : { problem: "host" };
  }
  let url: URL;
  try {
    // `github.com/owner/name`, as people copy it from the address bar.
    url = new URL(trimmed.includes("://") ? trimmed : `https://${trimmed}`);
  } catch {
    return { problem: "form" };
  }
  if (!["https:", "http:", "ssh:", "git:"].includes(url.protocol)) return { problem: "form" };
  if (url.password !== "" || (url.username !== "" && !(url.protocol === "ssh:" && url.username === "git"))) return { problem: "credentials" };
  if (url.hostname.toLowerCase() !== host.toLowerCase() && url.hostname.toLowerCase() !== `www.${host.toLowerCase()}`) return { problem: "host" };
  if (url.search !== "" || url.hash !== "") return { problem: "form" };
  return pathOf(decodeURIComponent(url.pathname));
}

function pathOf(path: string): { owner: string; name: string } | { problem: RepositoryUrlProblem } {
  const bare = path.replace(/^\/+/, "").replace(/\/$/, "").replace(/\.git$/, "");
  const match = REPOSITORY.exec(bare);
  if (!match || match[2] === "." || match[2] === ".." || match[1] === "." || match[1] === "..") return { problem: "form" };
  return { owner: match[1]!, name: match[2]! };
}

/** What the client is told for each problem. */
export function repositoryUrlError(problem: RepositoryUrlProblem, host: string): string {
  switch (problem) {
    case "credentials":
      return "repo_url must not carry credentials: this server reaches GitHub as its GitHub App";
    case "host":
      return `repo_url must name a repository on ${host}`;
    case "form":
      return `repo_url must be a repository's URL, such as https://${host}/owner/name`;
  }
}
