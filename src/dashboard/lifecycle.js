/**
 * What every view does with its work: it stops when the reader leaves (one AbortSignal),
 * refreshes on a timer, and shows a refused or failed call in place, not as an uncaught
 * error. Anything else thrown is a fault of the page and is left to surface.
 */
import { ApiError } from "./api.js";

/**
 * Run `work`, showing an API failure with `showError`; nothing once the view is left.
 * @param {AbortSignal} signal
 * @param {() => Promise<void>} work
 * @param {(error: ApiError) => void} showError
 */
export async function attempt(signal, work, showError) {
  try {
    await work();
  } catch (error) {
    if (signal.aborted) return;
    // A 401 has already cleared the whole view (app.js); the banner says why.
    if (error instanceof ApiError) {
      if (error.status !== 401) showError(error);
      return;
    }
    throw error;
  }
}

/**
 * Call `tick` now and then `ms` after each call has finished (never two at once), while the
 * tab is visible, until `signal` aborts.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @param {() => Promise<void>} tick
 */
export function every(ms, signal, tick) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const run = async () => {
    if (signal.aborted) return;
    if (!document.hidden) await tick();
    if (!signal.aborted) timer = setTimeout(run, ms);
  };
  signal.addEventListener("abort", () => clearTimeout(timer));
  void run();
}
