/**
 * `echo-client doctor`: a bounded battery of checks of what the path to
 * an echo endpoint does to a connection (connect, TLS, integrity,
 * half-close, idle survival, concurrency, a UDP burst), and its report.
 * It knows nothing of flags.
 *
 * @module
 */

export * from "./doctor.ts";
export * from "./report.ts";
