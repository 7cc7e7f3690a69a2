/**
 * Listing and reading a commit for the repository map, on the worker, from the job's work
 * repository (src/sandbox/work-repository.ts), which holds the commit the sandbox checked
 * out: one `ls-tree` lists every file with its size, one `cat-file --batch` reads any
 * number of them, with exact byte lengths whatever the paths and bytes hold. Nothing goes
 * through the sandbox, where each round trip is an `exec` under bubblewrap (locally) or a
 * network call (E2B), and the map can be made while the checkout is still being made.
 *
 * The listing is that of the commit; right after the checkout it is the workspace's, which
 * is when the map is made (before any agent has written anything). The contents are
 * repository data, read as bytes and never run: untrusted text, fenced where it enters a
 * prompt (`fenceUntrusted`).
 */
import { readHostGit } from "../sandbox/host-git.ts";

export interface TrackedFile {
  path: string;
  /** Bytes in the blob. */
  size: number;
  objectId: string;
}

/**
 * Bounds on what the worker holds of git's output. 128 MiB of listing is over a million
 * paths; a tree beyond it (a repository, or a fork's commit, made to exhaust the worker's
 * memory) is refused, and the job with it, rather than held whole.
 */
const MAX_LISTING_BYTES = 128 * 1024 * 1024;
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
const GIT_TIMEOUT_MS = 120_000;

/** Every file of `sha` (submodules left out, symlinks as their target's text), with sizes. */
export async function listCommitFiles(gitDir: string, sha: string): Promise<TrackedFile[]> {
  // An object id, never an option or a revision expression.
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw new Error(`not a commit id: ${JSON.stringify(sha.slice(0, 80))}`);
  const listing = await readHostGit(["--git-dir", gitDir, "ls-tree", "-r", "-l", "-z", "--full-tree", sha], {
    what: "listing the repository's files for its map",
    maxBytes: MAX_LISTING_BYTES,
    timeoutMs: GIT_TIMEOUT_MS,
  });
  return parseTree(listing.toString("utf8"));
}

/** The content of each object id the repository has, decoded as UTF-8. */
export async function readBlobs(gitDir: string, objectIds: readonly string[]): Promise<Map<string, string>> {
  if (objectIds.length === 0) return new Map();
  const batch = await readHostGit(["--git-dir", gitDir, "cat-file", "--batch"], {
    what: "reading files for the repository map",
    stdin: `${objectIds.join("\n")}\n`,
    maxBytes: MAX_BATCH_BYTES,
    timeoutMs: GIT_TIMEOUT_MS,
  });
  return parseBatch(batch);
}

/** `ls-tree -r -l -z` entries: `<mode> <type> <oid> <size, right-aligned>\t<path>`; only blobs are files. */
export function parseTree(listing: string): TrackedFile[] {
  const files: TrackedFile[] = [];
  for (const entry of listing.split("\0")) {
    const tab = entry.indexOf("\t");
    if (tab === -1) continue;
    const [, type, objectId, size] = entry.slice(0, tab).split(/ +/);
    if (type !== "blob" || objectId === undefined) continue;
    const bytes = Number(size);
    files.push({ path: entry.slice(tab + 1), size: Number.isFinite(bytes) ? bytes : 0, objectId });
  }
  return files;
}

/** `cat-file --batch` output: `<oid> blob <size>\n<bytes>\n` per object, `<oid> missing\n` for none. */
export function parseBatch(bytes: Buffer): Map<string, string> {
  const decoder = new TextDecoder("utf-8");
  const contents = new Map<string, string>();
  let offset = 0;
  while (offset < bytes.length) {
    const headerEnd = bytes.indexOf(10, offset);
    if (headerEnd === -1) break;
    const [objectId, type, size] = bytes.toString("latin1", offset, headerEnd).split(" ");
    offset = headerEnd + 1;
    if (size === undefined) continue;
    const length = Number(size);
    if (type === "blob") contents.set(objectId!, decoder.decode(bytes.subarray(offset, offset + length)));
    offset += length + 1;
  }
  return contents;
}
