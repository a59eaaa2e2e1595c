/**
 * Logging and the units of every number we print or parse: structured
 * log lines on stderr, durations and byte sizes, and the stdout/stderr
 * writers. Every other folder uses it; it knows nothing about sockets,
 * echo or the command line.
 *
 * @module
 */

export * from "./logger.ts";
export * from "./units.ts";
export * from "./stdio.ts";
export * from "./line_queue.ts";
export * from "./event_throttle.ts";
