/**
 * Resolves after `ms`, or as soon as `signal` aborts, whichever is first.
 *
 * @param ms How long to wait; zero or less resolves on the next timer turn.
 * @param signal Ends the wait early; never rejects.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}
