/**
 * The verified echo primitives: one message and its echo, a stream of
 * any length verified in bounded memory, one UDP datagram with retries.
 * `ping` and `bench` build on them. Nothing here knows about flags,
 * stdout or exit codes.
 *
 * @module
 */

export * from "./echo_message.ts";
export * from "./echo_stream.ts";
export * from "./udp_echo.ts";
export * from "./unverified_bytes.ts";
export * from "./run_client.ts";
