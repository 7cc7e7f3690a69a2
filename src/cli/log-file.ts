/**
 * Where a command's log goes: a file, never the terminal, which belongs to the progress
 * lines and the summary (a log line's stack, or the app's words for what to do next on
 * GitHub, would only bury them). `running-agent run` names the file in its summary when
 * the run did not succeed, `eval` keeps it next to its report.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino, { type Logger } from "pino";
import { redactKnownTokens } from "../redact.ts";

export interface LogFile {
  readonly path: string;
  readonly log: Logger;
  /** Whether any line was written. */
  readonly written: boolean;
  close(): void;
}

/**
 * pino to `file` (created, or emptied: an eval's folder may hold an earlier run's), or to a
 * new file in the temp folder, that only this user can read; every line through the token
 * redactor (as `createLogger` does for the app). Written synchronously: the command ends
 * with `process.exit`, which would drop lines still buffered.
 */
export function openLogFile(level: string, file?: string): LogFile {
  const target = file ?? path.join(os.tmpdir(), `running-agent-${timestampOf(new Date())}-${randomBytes(3).toString("hex")}.log`);
  if (file) mkdirSync(path.dirname(file), { recursive: true });
  // In the shared temp folder: a new file only, never one someone put there (a link) first.
  const fd = openSync(target, file ? "w" : "wx", 0o600);
  let open = true;
  let written = false;
  const log = pino(
    { level },
    {
      write(line: string) {
        if (!open) return;
        writeSync(fd, redactKnownTokens(line));
        written = true;
      },
    },
  );
  return {
    path: target,
    log,
    get written() {
      return written;
    },
    close() {
      if (!open) return;
      // A late line (a library's timer) is dropped from here on, not thrown at whoever logged it.
      open = false;
      closeSync(fd);
    },
  };
}

/** `20261124-100000` (UTC): sorts by time, and reads as one in a file name. */
function timestampOf(date: Date): string {
  return date.toISOString().slice(0, 19).replaceAll("-", "").replaceAll(":", "").replace("T", "-");
}
