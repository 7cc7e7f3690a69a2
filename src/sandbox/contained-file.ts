/**
 * The worker reads and writes a local sandbox's files from the host, with the worker's
 * rights: a symbolic link the agent planted (`.git/config` → a file of the host's) must
 * not carry those reads and writes out of the sandbox's directory. Every path is resolved
 * to a real path inside it, and the final open refuses a link. Races need a process of the
 * sandbox's running while the worker writes; the worker touches files when none runs.
 */
import { constants } from "node:fs";
import { mkdir, open, realpath } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { JobError } from "../job-error.ts";

export async function writeContained(root: string, path: string, content: string | Uint8Array): Promise<void> {
  const real = await containedTarget(root, path);
  let handle;
  try {
    handle = await open(real, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  } catch (error) {
    throw refusal(path, error);
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/** The file's bytes; refuses one larger than `maxBytes` before reading it. */
export async function readContained(root: string, path: string, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer> {
  const real = await realpath(path).catch((error: unknown) => {
    throw refusal(path, error);
  });
  if (!isInside(await realpath(root), real)) throw new JobError("sandbox", `${path} leads out of the sandbox (to ${real}); the worker does not read it.`);
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
    throw refusal(path, error);
  });
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new JobError("sandbox", `${basename(path)} is ${size} bytes, more than the ${maxBytes} the worker takes from a sandbox.`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The real path to write `path` at: its existing part resolved and checked, the missing directories made inside. */
async function containedTarget(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  let existing = dirname(resolve(path));
  const missing: string[] = [];
  for (;;) {
    const real = await realpath(existing).catch(() => null);
    if (real !== null) {
      if (!isInside(realRoot, real)) throw new JobError("sandbox", `${path} leads out of the sandbox (through ${real}); the worker does not write it.`);
      const parent = join(real, ...missing);
      await mkdir(parent, { recursive: true });
      return join(parent, basename(path));
    }
    if (existing === dirname(existing)) throw new JobError("sandbox", `${path} is not inside the sandbox.`);
    missing.unshift(basename(existing));
    existing = dirname(existing);
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

function refusal(path: string, error: unknown): JobError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return new JobError("sandbox", `${path} is a symbolic link; the worker does not follow links in a sandbox.`);
  return new JobError("sandbox", `${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
