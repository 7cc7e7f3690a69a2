import { HANG_MS } from "./patience.ts";

/** Poll `read` until it returns something other than undefined/false; fail, saying what, if it hangs (`HANG_MS`). */
export async function waitUntil<T>(read: () => T | undefined | false | Promise<T | undefined | false>, options: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? HANG_MS);
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? "a condition"}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
