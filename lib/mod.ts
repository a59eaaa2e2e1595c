/**
 * The echo library behind `echo-server` and `echo-client`: TCP, TLS, Unix
 * socket and UDP echo serving, verified clients, a load generator and ping.
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

export * from "./address.ts";
export * from "./connect.ts";
export * from "./echo_client.ts";
export * from "./echo_connection.ts";
export * from "./echo_server.ts";
export * from "./echo_stream.ts";
export * from "./errors.ts";
export * from "./exit_codes.ts";
export * from "./latency_histogram.ts";
export * from "./listeners.ts";
export * from "./load_generator.ts";
export * from "./logger.ts";
export * from "./ping.ts";
export * from "./tls_certificate.ts";
export * from "./udp_client.ts";
export * from "./udp_echo_server.ts";
export * from "./unix_socket.ts";
export * from "./units.ts";
