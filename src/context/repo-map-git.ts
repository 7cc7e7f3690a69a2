/**
 * Listing and reading a checkout for the repository map, through the sandbox in as few
 * round trips as possible (an E2B call crosses the network): one `exec` lists every tracked
 * file with its size, one `exec` reads any number of files, and each leaves its output in
 * temporary files that `readFile` fetches (in parallel when there are two).
 *
 * Why temporary files and not stdout: `exec` keeps only the last 1 MiB of output (the local
 * sandbox's bound), and 50,000 paths are several MiB. Why `git cat-file` and not `cat`:
 * one process reads every blob with exact byte lengths, whatever the paths contain; it reads
 * the index's version of each file, which right after the clone is the checkout. Why base64:
 * `readFile` decodes UTF-8, which would lose the byte lengths in a file that is not UTF-8.
 */
import { JobError } from "../job-error.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";

export interface TrackedFile {
  path: string;
  /** Bytes in the index's blob; 0 when git could not tell. */
  size: number;
  objectId: string;
}

export interface Listing {
  files: TrackedFile[];
  /** A directory in the sandbox for this map's temporary files; `removeScratch` deletes it. */
  scratch: string;
}

const GITLINK_MODE = "160000";

// `ls-files -s` runs twice: once NUL-separated for exact paths, once quoted (one line per
// entry, whatever the path holds) to feed the object ids to `cat-file` in the same order.
const LIST_SCRIPT = `scratch=$(mktemp -d) || exit 1
if ! { git ls-files -s -z > "$scratch/list" &&
  git ls-files -s | cut -d ' ' -f 2 | git cat-file --buffer --batch-check='%(objectsize)' > "$scratch/sizes"; }; then
  rm -rf "$scratch"
  exit 1
fi
printf '%s' "$scratch"`;

const READ_SCRIPT = `set -e
git cat-file --buffer --batch | base64 > "$1/blobs"`;

export async function listTrackedFiles(sandbox: Sandbox): Promise<Listing> {
  const result = await sandbox.exec(["/bin/sh", "-c", LIST_SCRIPT], { timeoutMs: 120_000 });
  const scratch = result.stdout.trim();
  if (result.exitCode !== 0 || scratch === "") {
    throw new JobError("sandbox", `Listing the repository's files for its map failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-500)}`, { retryable: true });
  }
  const [list, sizes] = await Promise.all([sandbox.readFile(`${scratch}/list`), sandbox.readFile(`${scratch}/sizes`)]);
  return { files: parseListing(list, sizes), scratch };
}

/** The content of each object id that git has, decoded as UTF-8. */
export async function readBlobs(sandbox: Sandbox, scratch: string, objectIds: readonly string[]): Promise<Map<string, string>> {
  if (objectIds.length === 0) return new Map();
  const result = await sandbox.exec(["/bin/sh", "-c", READ_SCRIPT, "sh", scratch], { stdin: `${objectIds.join("\n")}\n`, timeoutMs: 120_000 });
  if (result.exitCode !== 0) {
    throw new JobError("sandbox", `Reading files for the repository map failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-500)}`, { retryable: true });
  }
  return parseBatch(Buffer.from(await sandbox.readFile(`${scratch}/blobs`), "base64"));
}

export async function removeScratch(sandbox: Sandbox, scratch: string): Promise<void> {
  await sandbox.exec(["rm", "-rf", "--", scratch], { timeoutMs: 60_000 });
}

/** `ls-files -s -z` entries (`mode oid stage\tpath`), with the sizes `cat-file` gave in the same order. */
export function parseListing(list: string, sizes: string): TrackedFile[] {
  const entries = list.split("\0");
  if (entries.at(-1) === "") entries.pop();
  const sizeLines = sizes.split("\n");
  // Should the two listings disagree (the index changed in between), sizes are unknown rather than wrong.
  const aligned = sizeLines.length - 1 === entries.length;
  const files: TrackedFile[] = [];
  let previous = "";
  entries.forEach((entry, index) => {
    const tab = entry.indexOf("\t");
    const path = entry.slice(tab + 1);
    // Submodules are commits, not files; an unmerged path appears once per stage.
    if (tab === -1 || entry.startsWith(GITLINK_MODE) || path === previous) return;
    previous = path;
    const size = aligned ? Number(sizeLines[index]) : 0;
    files.push({ path, size: Number.isFinite(size) ? size : 0, objectId: entry.slice(7, tab - 2) });
  });
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
