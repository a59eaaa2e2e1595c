/**
 * `deno task soak`: a mixed hostile workload (resets before accept,
 * non-readers, one-byte-a-second clients, silent TLS clients, garbage,
 * churn, forged PROXY headers, stalled headers from a trusted proxy, idle
 * and trickling admin clients) against running echo servers, while probes
 * verify that well-behaved clients are still served byte for byte and
 * that `/healthz` still answers. It drives servers over the network only;
 * starting and watching them is the caller's job.
 *
 * @module
 */

export * from "./hostile_peers.ts";
export * from "./probe.ts";
export * from "./report.ts";
export * from "./soak.ts";
