/**
 * Toolchains the README does not require: a test that needs one skips, saying which, on a
 * machine without it (`.ci/run` installs them, so CI runs everything).
 */
import { accessSync, constants } from "node:fs";
import path from "node:path";

/** The command each language of the eval suites needs, beyond Node and git. */
export const TOOL_OF_LANGUAGE: Readonly<Record<string, string>> = { rust: "cargo", python: "python3" };

/** Whether `command` is an executable on PATH. */
export function hasCommand(command: string, envPath = process.env.PATH ?? ""): boolean {
  return envPath
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .some((dir) => {
      try {
        accessSync(path.join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** Why a test in `language` cannot run here (a skip note), or null when it can. */
export function missingToolchain(language: string): string | null {
  const tool = TOOL_OF_LANGUAGE[language];
  if (tool === undefined || hasCommand(tool)) return null;
  return `needs ${tool}, an optional toolchain that is not on PATH (README: Development)`;
}
