/**
 * The echo library behind `echo-server` and `echo-client`: TCP, TLS, Unix
 * socket and UDP echo serving, verified clients, a load generator and ping.
 *
 * One folder per concern, each with its own `mod.ts`; imports point down
 * only (see the README, "How the code is laid out"):
 *
 * - `cli/`: flags, help texts, exit codes, failure reporting;
 * - `server/`, `bench/`, `ping/`: the features;
 * - `client/`: verified echo of a message, a stream or a datagram;
 * - `tls/`: certificates;
 * - `net/`: addresses, connecting, listeners, socket helpers, error types;
 * - `log/`: structured logging, units, stdout/stderr.
 *
 * @example Serve echo on a free loopback port until aborted
 * ```ts
 * import { serveEcho } from "./mod.ts";
 * const stop = new AbortController();
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const done = serveEcho(listener, { signal: stop.signal });
 * stop.abort();
 * await done;
 * ```
 *
 * @module
 */

export * from "./bench/mod.ts";
export * from "./cli/mod.ts";
export * from "./client/mod.ts";
export * from "./log/mod.ts";
export * from "./net/mod.ts";
export * from "./ping/mod.ts";
export * from "./server/mod.ts";
export * from "./tls/mod.ts";
export * from "./soak/mod.ts";
