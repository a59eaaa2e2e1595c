/**
 * The socket layer under every feature: endpoints and addresses,
 * connecting (TCP, TLS, Unix) with deadlines, opening listeners, Unix
 * socket files, write-all, idle timers and abort helpers, and the error
 * types callers tell apart. It knows nothing about echo servers, clients
 * or flags.
 *
 * @module
 */

export * from "./accept_errors.ts";
export * from "./accept_loop.ts";
export * from "./address.ts";
export * from "./connect.ts";
export * from "./listeners.ts";
export * from "./stream.ts";
export * from "./tls_listener.ts";
export * from "./resettable_listener.ts";
export * from "./unix_socket.ts";
export * from "./write_all.ts";
export * from "./idle_timer.ts";
export * from "./delay.ts";
export * from "./close_on_abort.ts";
export * from "./close_quietly.ts";
export * from "./bytes_equal.ts";
export * from "./errors.ts";
export * from "./connection_error.ts";
export * from "./udp.ts";
