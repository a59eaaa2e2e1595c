/**
 * `echo-client ping`: round-trip probes over TCP, TLS, Unix sockets and
 * UDP, and their report. It builds on `client`; it knows nothing about
 * flags.
 *
 * @module
 */

export * from "./ping.ts";
export * from "./report.ts";
