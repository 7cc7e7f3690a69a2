import pino, { type Logger } from "pino";
import { redactKnownTokens } from "./redact.ts";

/**
 * The process logger. Every line passes through the token redactor on its way out, so a
 * token quoted in an error message (git prints its command line) never reaches the logs.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    { level, base: { pid: process.pid } },
    {
      write(line: string) {
        destination.write(redactKnownTokens(line));
      },
    },
  );
}
