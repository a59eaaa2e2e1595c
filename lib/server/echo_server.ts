/**
 * The echo server: accepts connections, runs the echo loop
 * (`echoConnection`) on each, enforces the connection limit and the buffer budget, survives
 * accept failures, and drains on shutdown.
 *
 * @module
 */

import { acceptConnections, type StreamListener } from "../net/mod.ts";
import { Dispatcher } from "./_dispatcher.ts";
import type { ServeEchoOptions, ServeSummary } from "./serve_options.ts";

/**
 * Serves echo on `listener` until `options.signal` aborts (or the listener
 * is closed), then drains open connections and resolves with totals.
 *
 * Never rejects for a connection's error or an accept failure: those are
 * counted and logged (repeated warnings at most once a second), and the
 * server keeps serving. A failure that concerns only the connection being
 * accepted (it was reset before we got to it) is retried at once; running
 * out of descriptors or memory backs off for up to 100 ms at a time.
 *
 * @param listener A stream listener; closed by this function when it stops.
 * @param options Limits, timeouts, budget, logger and shutdown signal.
 * @returns Totals once every connection has ended.
 *
 * @example
 * ```ts
 * import { serveEcho } from "./echo_server.ts";
 * const stop = new AbortController();
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const done = serveEcho(listener, { signal: stop.signal });
 * stop.abort();
 * await done;
 * ```
 */
export async function serveEcho(
  listener: StreamListener,
  options: ServeEchoOptions = {},
): Promise<ServeSummary> {
  using dispatcher = new Dispatcher(options);
  const connections = acceptConnections(listener, {
    ...(options.signal !== undefined && { signal: options.signal }),
    onError: (failure) => dispatcher.acceptFailed(failure),
  });
  for await (const conn of connections) dispatcher.accept(conn);
  return await dispatcher.drain();
}
