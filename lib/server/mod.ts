/**
 * The echo server: the per-connection echo loop, the accept loop with its
 * limits and drain, UDP echo, and `--workers` threads. It takes options
 * objects it defines; it knows nothing about flags or exit codes.
 *
 * @module
 */

export * from "./echo_connection.ts";
export * from "./echo_server.ts";
export * from "./serve_options.ts";
export * from "./admission.ts";
export * from "./udp_echo_server.ts";
export * from "./worker_pool.ts";
export * from "./run_server.ts";
export * from "./run_server_options.ts";
export * from "./buffer_budget.ts";
export * from "./echo_service.ts";
export * from "./server_metrics.ts";
export * from "./server_info.ts";
