/**
 * The one accept loop every server uses: it yields connections, survives
 * every `accept()` failure, and ends only when the listener is closed or
 * the shutdown signal aborts.
 *
 * What a failure means is decided by {@linkcode classifyAcceptError}: a
 * pending connection that died before we got to it is retried at once; out
 * of descriptors, buffers or memory (or anything unknown) backs off, 5 ms
 * doubling to 100 ms, because the pending connection stays queued and
 * retrying at once would spin on the same error.
 *
 * An accept error must never escape as a rejection. Besides ending the
 * server, an uncaught error is printed with its stack, and Deno 2.9 source-
 * maps that stack by transpiling the module again; the TypeScript parser
 * then asks glibc for the main thread's stack bounds, which reads
 * `/proc/self/maps` and fails with EMFILE when no descriptor is left, and
 * Deno panics. The same holds for a callback here: report an error's
 * message, never its `stack`, while descriptors may be exhausted.
 *
 * @module
 */

import { type AcceptErrorKind, classifyAcceptError } from "./accept_errors.ts";
import { delay } from "./delay.ts";

/** One failed `accept()`, as {@linkcode acceptConnections} reports it. */
export interface AcceptError {
  /** Whom it concerns: see {@linkcode AcceptErrorKind}. */
  kind: AcceptErrorKind;
  /** What `accept()` threw. */
  error: unknown;
  /**
   * How long the loop pauses before the next `accept()`, in ms; undefined
   * when it retries at once (kind `connection`).
   */
  retryMs?: number;
}

/** Options for {@linkcode acceptConnections}. */
export interface AcceptConnectionsOptions {
  /**
   * Aborting it closes the listener (which ends a pending `accept()`) and
   * ends the loop, also during a back-off.
   * @default {no signal: the loop ends when the listener is closed}
   */
  signal?: AbortSignal;
  /**
   * Called for every failed `accept()`, before the retry: count by `kind`,
   * log (throttled), export a metric. What it throws ends the loop.
   * @default {nothing is reported}
   */
  onError?: (failure: AcceptError) => void;
  /**
   * The first pause after a failure that is not about one connection, in
   * ms; it doubles on each further failure and resets on a success.
   * @default {5}
   */
  minBackoffMs?: number;
  /**
   * The longest pause, in ms: how soon service resumes once resources are
   * freed.
   * @default {100}
   */
  maxBackoffMs?: number;
}

/**
 * Accepts connections from `listener` until it is closed or
 * `options.signal` aborts, surviving every `accept()` failure.
 *
 * A closed listener (`Deno.errors.BadResource`) or an aborted signal ends
 * the iteration normally; any other failure is reported to
 * `options.onError` and retried (at once for a dead pending connection,
 * after a back-off otherwise). The caller owns each connection yielded.
 * Breaking out of the loop leaves the listener open.
 *
 * @param listener Anything with `accept()`: `Deno.Listener`, the TLS
 * listener, a fake in a test.
 * @param options Shutdown signal, error callback and back-off bounds.
 * @returns The connections, one per successful `accept()`.
 *
 * @example
 * ```ts
 * import { acceptConnections } from "./accept_loop.ts";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const stop = new AbortController();
 * const counts = { connection: 0, exhausted: 0, other: 0 };
 * let accepted = 0;
 * for await (
 *   const conn of acceptConnections(listener, {
 *     signal: stop.signal,
 *     onError: ({ kind }) => counts[kind]++,
 *   })
 * ) {
 *   accepted++;
 *   conn.close();
 *   stop.abort(); // closes the listener: the loop ends
 * }
 * client.close();
 * assert.equal(accepted, 1);
 * assert.deepEqual(counts, { connection: 0, exhausted: 0, other: 0 });
 * ```
 */
export async function* acceptConnections<Conn>(
  listener: { accept(): Promise<Conn>; close(): void },
  options: AcceptConnectionsOptions = {},
): AsyncGenerator<Conn, void, undefined> {
  const { signal, onError, minBackoffMs = 5, maxBackoffMs = 100 } = options;
  const stop = () => {
    try {
      listener.close();
    } catch {
      // Closed already: the loop ends on its next accept.
    }
  };
  if (signal?.aborted) return;
  signal?.addEventListener("abort", stop, { once: true });
  try {
    let backoffMs = minBackoffMs;
    while (!signal?.aborted) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (signal?.aborted || error instanceof Deno.errors.BadResource) {
          return;
        }
        const kind = classifyAcceptError(error);
        if (kind === "connection") {
          onError?.({ kind, error });
          continue;
        }
        onError?.({ kind, error, retryMs: backoffMs });
        await delay(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
        continue;
      }
      backoffMs = minBackoffMs;
      yield conn;
    }
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
