/**
 * The messages between the main thread and a `--workers` thread.
 *
 * @module
 */

import type { ServeLimits, ServeSummary } from "./echo_server.ts";
import type { TlsSettings } from "../net/mod.ts";
import type { LoggerOptions } from "../log/mod.ts";

/** What a worker needs to serve, sent as its first message. */
export interface WorkerSettings {
  /** Address to listen on. */
  host: string;
  /** The port the main listener bound (never 0 here). */
  port: number;
  /** This worker's number, for its log lines (the main thread is 1). */
  worker: number;
  /** Echo and limit settings, as for {@linkcode serveEcho}. */
  options: ServeLimits;
  /** Log format and verbosity. */
  log: Pick<LoggerOptions, "format" | "quiet">;
  /** Serve TLS with this certificate and key. */
  tls?: TlsSettings;
  /** The server-wide buffer budget: its limit and shared counters. */
  budget: { limit: number; counters: SharedArrayBuffer };
}

/** What a worker reports back. */
export type WorkerReport =
  | { type: "listening" }
  | { type: "stopped"; summary: ServeSummary; logLinesDropped: number }
  | { type: "failed"; message: string };
