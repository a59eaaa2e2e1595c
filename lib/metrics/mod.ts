/**
 * Metrics: counters shared by every thread, and the Prometheus text
 * exposition format. It knows nothing about what is counted; the server
 * defines its metrics on top.
 *
 * @module
 */

export * from "./prometheus.ts";
export * from "./shared_counters.ts";
