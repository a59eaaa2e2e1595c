/**
 * `echo-client bench`: a load generator that verifies every echoed byte,
 * latency histograms, and the report as a table or JSON. It builds on
 * `client` and `net`; it knows nothing about flags.
 *
 * @module
 */

export * from "./load_generator.ts";
export * from "./latency_histogram.ts";
export * from "./report.ts";
export * from "./merge_reports.ts";
export type { UdpCounts } from "./_udp_load.ts";
