/**
 * Worker threads: starting them with fair scheduling (a runtime setting
 * that only Workers can get), the conversation with one, and errors
 * across the boundary. It knows nothing about sockets, echo or flags.
 *
 * @module
 */

export * from "./fair_scheduling.ts";
export * from "./worker_errors.ts";
export * from "./worker_thread.ts";
