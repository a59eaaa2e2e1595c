/**
 * The echo server: accepts connections, runs {@linkcode echoConnection} on
 * each, enforces the connection limit and the buffer budget, survives
 * accept failures, and drains on shutdown.
 *
 * @module
 */

import {
  type AccessRules,
  type AddressLimit,
  isAllowed,
} from "../access/mod.ts";
import { EventThrottle, type LogFields, Logger } from "../log/mod.ts";
import { type ProxiedConnection, readProxyHeader } from "../proxy/mod.ts";
import {
  type AcceptErrorKind,
  classifyAcceptError,
  closeQuietly,
  delay,
  formatAddress,
  IdleTimer,
  type StreamConn,
  type StreamListener,
} from "../net/mod.ts";
import { BufferBudget, DEFAULT_BUFFER_BUDGET } from "./buffer_budget.ts";
import {
  echoConnection,
  type EchoConnectionOptions,
  type EchoResult,
} from "./echo_connection.ts";
import type { RefusalReason, ServerMetrics } from "./server_metrics.ts";

/** How long a PROXY header may take when no handshake timeout is set. */
const DEFAULT_PROXY_TIMEOUT_MS = 10_000;

/** How long open connections may finish after shutdown begins, by default. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

// Out of descriptors, buffers or memory: the pending connection stays
// queued, so retrying at once would spin on the same error. Pause briefly,
// doubling up to a short ceiling so that service resumes soon after
// resources come back.
const ACCEPT_BACKOFF_MIN_MS = 5;
const ACCEPT_BACKOFF_MAX_MS = 100;

/** Options for {@linkcode serveEcho}. */
export interface ServeEchoOptions
  extends Pick<EchoConnectionOptions, "maxBufferSize" | "idleTimeout"> {
  /** Aborting it stops accepting and starts the drain. */
  signal?: AbortSignal;
  /**
   * After shutdown begins, open connections may finish for this many ms;
   * then they are closed with reason `shutdown`.
   * @default {5000}
   */
  drainTimeout?: number;
  /**
   * For a TLS listener: close a client that has not completed the handshake
   * within this many ms, so a silent or non-TLS peer cannot hold a slot;
   * `0` never does. Ignored for plain connections.
   * @default {0}
   */
  handshakeTimeout?: number;
  /**
   * Connections beyond this many are closed at once and logged.
   * @default {Infinity}
   */
  maxConnections?: number;
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
   * Every connection must start with a PROXY header (v1 or v2), complete
   * within `handshakeTimeout` (or 10 s without one); its source address is
   * the client's from then on. Connections without a valid header are
   * closed at once, nothing echoed.
   * @default {false}
   */
  proxyProtocol?: boolean;
  /** Who may connect (by effective client address). @default {everyone} */
  access?: AccessRules;
  /** Connections one address may hold at once (shared by every worker). */
  addressLimit?: AddressLimit;
}

/** The limits and timeouts of serving, shared by every worker. */
export type ServeLimits = Pick<
  ServeEchoOptions,
  | "idleTimeout"
  | "maxConnections"
  | "drainTimeout"
  | "maxBufferSize"
  | "handshakeTimeout"
>;

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

/**
 * Serves echo on `listener` until `options.signal` aborts (or the listener
 * is closed), then drains open connections and resolves with totals.
 *
 * Never rejects for a connection's error or an accept failure: those are
 * counted and logged (repeated warnings at most once a second), and the
 * server keeps serving. A failure that concerns only the connection being
 * accepted (it was reset before we got to it) is retried at once; running
 * out of descriptors or memory backs off for up to 100 ms at a time.
 *
 * @param listener A stream listener; closed by this function when it stops.
 * @param options Limits, timeouts, budget, logger and shutdown signal.
 * @returns Totals once every connection has ended.
 *
 * @example
 * ```ts
 * import { serveEcho } from "./echo_server.ts";
 * const stop = new AbortController();
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const done = serveEcho(listener, { signal: stop.signal });
 * stop.abort();
 * await done;
 * ```
 */
export async function serveEcho(
  listener: StreamListener,
  options: ServeEchoOptions = {},
): Promise<ServeSummary> {
  const {
    signal,
    drainTimeout = DEFAULT_DRAIN_TIMEOUT_MS,
    maxConnections = Infinity,
    handshakeTimeout = 0,
    logger = new Logger(),
    metrics,
    addressLimit,
  } = options;
  const proxyTimeout = handshakeTimeout > 0
    ? handshakeTimeout
    : DEFAULT_PROXY_TIMEOUT_MS;
  const summary: ServeSummary = {
    connections: 0,
    refused: 0,
    bytesEchoed: 0,
    acceptErrors: { connection: 0, exhausted: 0, other: 0 },
  };
  using warnings = new EventThrottle(logger);
  const drainDeadline = new AbortController();
  const connectionOptions: EchoConnectionOptions = {
    signal: drainDeadline.signal,
    budget: options.budget ?? new BufferBudget(DEFAULT_BUFFER_BUDGET),
    ...(options.maxBufferSize !== undefined &&
      { maxBufferSize: options.maxBufferSize }),
    ...(options.idleTimeout !== undefined && {
      idleTimeout: options.idleTimeout,
    }),
  };

  // Connections still being echoed; the drain waits for this to reach 0.
  // A counter and one `.then` per connection rather than a set of tracked
  // promises and a wrapping async call: each idle connection then keeps
  // only its own suspended echo loop alive (see bench/README.md).
  let open = 0;
  const allClosed = Promise.withResolvers<void>();
  const release = (conn: StreamConn) => {
    conn[Symbol.dispose]();
    if (--open === 0 && stopped) allClosed.resolve();
  };
  const refuse = (
    conn: StreamConn,
    reason: RefusalReason,
    fields: LogFields,
  ) => {
    summary.refused++;
    metrics?.refused(reason);
    if (logger.logsConnections) {
      warnings.event("refused", {
        peer: formatAddress(conn.remoteAddr),
        reason,
        ...fields,
      }, `refused ${reason}`);
    }
  };
  const echo = (
    conn: StreamConn,
    options: EchoConnectionOptions,
  ): Promise<EchoResult> =>
    isTls(conn)
      ? handshakeThenEcho(conn, handshakeTimeout, options)
      : echoConnection(conn, options);
  // Admits a connection whose client is `client` (its own address, or the
  // PROXY header's): access rules, then the per-address limit. Returns
  // false (and logs why) if it is refused.
  const admit = (conn: StreamConn, client: string): boolean => {
    if (options.access !== undefined && !isAllowed(options.access, client)) {
      refuse(conn, "denied", { client });
      return false;
    }
    if (addressLimit !== undefined && !addressLimit.tryAcquire(client)) {
      refuse(conn, "per-ip-limit", { client, limit: addressLimit.limit });
      return false;
    }
    return true;
  };
  const serve = (
    conn: StreamConn,
    id: number,
    client: Deno.Addr,
    prefix?: Uint8Array,
  ) => {
    const openedAt = performance.now();
    metrics?.opened();
    const peer = logger.logsConnections ? formatAddress(client) : "";
    if (logger.logsConnections) {
      logger.event("open", { conn: id, peer, active: open });
    }
    echo(
      conn,
      prefix === undefined
        ? connectionOptions
        : { ...connectionOptions, prefix },
    ).then((result) => {
      const durationMs = performance.now() - openedAt;
      summary.bytesEchoed += result.bytesEchoed;
      metrics?.closed(result.bytesEchoed, durationMs, result.reason);
      addressLimit?.release(hostOf(client));
      release(conn);
      if (!logger.logsConnections) return;
      logger.event("close", {
        conn: id,
        peer,
        reason: result.reason,
        bytes_echoed: result.bytesEchoed,
        duration_ms: Math.round(durationMs),
        error: result.error === undefined ? undefined : describe(result.error),
      });
    });
  };
  // With the PROXY protocol, the client is known only once its header has
  // arrived; the connection holds its slot meanwhile.
  const serveProxied = async (conn: StreamConn) => {
    let proxied: ProxiedConnection;
    try {
      proxied = await readProxyHeader(conn, proxyTimeout);
    } catch (error) {
      refuse(conn, "proxy-protocol", { error: describe(error) });
      release(conn);
      return;
    }
    // A LOCAL header (the proxy's own health check) is served as it is.
    const client = proxied.source === undefined
      ? conn.remoteAddr
      : { transport: "tcp" as const, ...proxied.source };
    if (!admit(conn, hostOf(client))) {
      release(conn);
      return;
    }
    serve(conn, ++summary.connections, client, proxied.rest);
  };
  let stopped = false;

  const stopAccepting = () => closeQuietly(listener);
  signal?.addEventListener("abort", stopAccepting, { once: true });
  if (signal?.aborted) stopAccepting();

  let backoffMs = ACCEPT_BACKOFF_MIN_MS;
  while (true) {
    let conn: StreamConn;
    try {
      conn = await listener.accept();
      backoffMs = ACCEPT_BACKOFF_MIN_MS;
    } catch (error) {
      if (signal?.aborted || error instanceof Deno.errors.BadResource) break;
      const kind = classifyAcceptError(error);
      summary.acceptErrors[kind]++;
      metrics?.acceptError(kind);
      if (kind === "connection") {
        warnings.event("accept-error", { kind, error: describe(error) });
        continue;
      }
      warnings.event("accept-error", {
        kind,
        error: describe(error),
        retry_ms: backoffMs,
      });
      await delay(backoffMs, signal);
      backoffMs = Math.min(backoffMs * 2, ACCEPT_BACKOFF_MAX_MS);
      continue;
    }
    if (open >= maxConnections) {
      refuse(conn, "max-connections", { limit: maxConnections });
      closeQuietly(conn);
      continue;
    }
    open++;
    if (options.proxyProtocol) {
      serveProxied(conn);
      continue;
    }
    if (!admit(conn, hostOf(conn.remoteAddr))) {
      release(conn);
      continue;
    }
    serve(conn, ++summary.connections, conn.remoteAddr);
  }
  signal?.removeEventListener("abort", stopAccepting);

  stopped = true;
  if (open > 0) {
    logger.event("draining", { connections: open, timeout_ms: drainTimeout });
    const deadline = setTimeout(() => drainDeadline.abort(), drainTimeout);
    await allClosed.promise;
    clearTimeout(deadline);
  }
  return summary;
}

/** A TLS connection: its handshake can be awaited. */
type TlsConn = StreamConn & { handshake(): Promise<unknown> };

function isTls(conn: StreamConn): conn is TlsConn {
  return "handshake" in conn;
}

/**
 * Completes the TLS handshake within `timeoutMs` (closing the connection
 * otherwise; `0`: no deadline), then echoes. Without the deadline a client
 * that connects and sends nothing, or sends something that is not TLS,
 * would hold its slot and its descriptor until it went away.
 */
async function handshakeThenEcho(
  conn: TlsConn,
  timeoutMs: number,
  options: EchoConnectionOptions,
): Promise<EchoResult> {
  {
    using deadline = timeoutMs > 0
      ? new IdleTimer(timeoutMs, () => conn.close())
      : undefined;
    try {
      await conn.handshake();
    } catch (error) {
      return {
        bytesEchoed: 0,
        reason: "tls-handshake",
        error: deadline?.expired
          ? new Error(`Handshake not finished within ${timeoutMs} ms`)
          : error,
      };
    }
  }
  return await echoConnection(conn, options);
}

/** The address part of a network address, as the access rules see it. */
function hostOf(addr: Deno.Addr): string {
  return "hostname" in addr ? addr.hostname : formatAddress(addr);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
