/**
 * The options and totals of `serveEcho`: limits, timeouts, the
 * buffer budget, PROXY trust and admission, logging.
 *
 * @module
 */

import type { AccessRules, AddressLimit } from "../access/mod.ts";
import type { BannerTemplate, HostFacts } from "../banner/mod.ts";
import type { FaultBoard } from "../faults/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { AcceptErrorKind } from "../net/mod.ts";
import type { ProxyProtocolOptions } from "./admission.ts";
import type { BufferBudget } from "./buffer_budget.ts";
import type { EchoConnectionOptions } from "./echo_connection.ts";
import type { ServerMetrics } from "./server_metrics.ts";

/** How long open connections may finish after shutdown begins, by default. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

/**
 * The limits and timeouts of serving: one object from the command line to
 * every serving thread.
 */
export interface ServeLimits
  extends Pick<EchoConnectionOptions, "maxBufferSize" | "idleTimeout"> {
  /**
   * After shutdown begins, open connections may finish for this many ms;
   * then they are closed with reason `shutdown`.
   * @default {5000}
   */
  drainTimeout?: number;
  /**
   * On the shutdown signal, keep accepting this many ms with `/readyz`
   * answering 503, so that load balancers stop sending before the drain
   * (what a Kubernetes preStop pause does, where there is none).
   * @default {0}
   */
  shutdownDelay?: number;
  /**
   * For a TLS listener: close a client that has not completed the handshake
   * within this many ms, so a silent or non-TLS peer cannot hold a slot;
   * `0` never does. Ignored for plain connections. PROXY headers must
   * arrive within it too (10 s without one).
   * @default {0}
   */
  handshakeTimeout?: number;
  /**
   * Connections beyond this many are closed at once and logged.
   * @default {Infinity}
   */
  maxConnections?: number;
}

/** Options for `serveEcho`. */
export interface ServeEchoOptions {
  /** Aborting it stops accepting and starts the drain. */
  signal?: AbortSignal;
  /** Timeouts and the connection limit. @default {no limits} */
  limits?: ServeLimits;
  /**
   * The budget all connection buffers grow from (share one between
   * workers); a buffer grows only while it has room.
   * @default {a budget of 64 MiB for this server alone}
   */
  budget?: BufferBudget;
  /**
   * Where connection and lifecycle events go.
   * @default {a text logger on stderr}
   */
  logger?: Logger;
  /** Counters for `/metrics` (shared by every worker). */
  metrics?: ServerMetrics;
  /**
   * Connections from trusted proxies start with a PROXY header (v1 or v2),
   * complete within `limits.handshakeTimeout` (or 10 s without one); its
   * source address is the client's from then on. Without a valid header
   * they are closed at once, nothing echoed. Anyone else is served under
   * its own address, and closed if it sends a header.
   * @default {no PROXY protocol}
   */
  proxyProtocol?: ProxyProtocolOptions;
  /** Who may connect (by effective client address). @default {everyone} */
  access?: AccessRules;
  /** Connections one address may hold at once (shared by every worker). */
  addressLimit?: AddressLimit;
  /**
   * What a connection gets: its bytes back (RFC 862), nothing (discard,
   * RFC 863), or the character pattern (chargen, RFC 864).
   * @default {"echo"}
   */
  service?: StreamService;
  /**
   * The faults in force (shared by every worker, changed live by the
   * admin endpoint); a share of connections, chosen as each opens, gets
   * them. @default {no faults}
   */
  faults?: FaultBoard;
  /**
   * Serve every connection through the fault path, so that faults set
   * later apply to connections already open (to their next data).
   * @default {false: without faults, connections get the plain loop}
   */
  liveFaults?: boolean;
  /**
   * Send this banner first on every connection (after the TLS
   * handshake), before anything is echoed.
   * @default {no banner: the echo is byte-exact from the first byte}
   */
  banner?: ServerBanner;
}

/**
 * The line sent first on every connection (`--banner`), so that a client
 * sees which backend answered. Plain data: it goes to every thread.
 */
export interface ServerBanner {
  /** What the line says. */
  template: BannerTemplate;
  /** The fields that are the same on every connection. */
  host: HostFacts;
  /**
   * Put it ahead of the echo in every UDP answer too (the answer is then
   * longer than the datagram by the banner's length).
   * @default {false}
   */
  udp?: boolean;
}

/** What a stream connection is served: echo, discard or chargen. */
export type StreamService = "echo" | "discard" | "chargen";

/** Totals over the server's lifetime. */
export interface ServeSummary {
  /** Connections accepted and echoed (refused ones excluded). */
  connections: number;
  /**
   * Connections closed at once: over `maxConnections` or the per-address
   * limit, denied, or without a valid PROXY header.
   */
  refused: number;
  /** Bytes echoed over all connections. */
  bytesEchoed: number;
  /** Failed accepts, by whom they concerned. */
  acceptErrors: Record<AcceptErrorKind, number>;
}
