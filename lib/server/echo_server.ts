/**
 * The echo server: accepts connections, runs {@linkcode echoConnection} on
 * each, enforces the connection limit and the buffer budget, survives
 * accept failures, and drains on shutdown.
 *
 * @module
 */

import type { AccessRules, AddressLimit } from "../access/mod.ts";
import { EventThrottle, Logger } from "../log/mod.ts";
import { type ProxiedConnection, readProxyHeader } from "../proxy/mod.ts";
import {
  acceptConnections,
  type AcceptErrorKind,
  closeOnAbort,
  closeQuietly,
  formatAddress,
  IdleTimer,
  type PlainBeforeTls,
  type StreamConn,
  type StreamListener,
} from "../net/mod.ts";
import {
  Admission,
  type AdmissionTicket,
  hostOf,
  type ProxyProtocolOptions,
  type Refusal,
} from "./admission.ts";
import { BufferBudget, DEFAULT_BUFFER_BUDGET } from "./buffer_budget.ts";
import {
  echoConnection,
  type EchoConnectionOptions,
  type EchoResult,
} from "./echo_connection.ts";
import type { ServerMetrics } from "./server_metrics.ts";

/** How long a PROXY header may take when no handshake timeout is set. */
const DEFAULT_PROXY_TIMEOUT_MS = 10_000;

/** How long open connections may finish after shutdown begins, by default. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

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
   * Connections from trusted proxies start with a PROXY header (v1 or v2),
   * complete within `handshakeTimeout` (or 10 s without one); its source
   * address is the client's from then on. Without a valid header they are
   * closed at once, nothing echoed. Anyone else is served under its own
   * address, and closed if it sends a header.
   * @default {no PROXY protocol}
   */
  proxyProtocol?: ProxyProtocolOptions;
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
  // only its own suspended echo loop alive (see experiments/README.md).
  let open = 0;
  const allClosed = Promise.withResolvers<void>();
  const release = (conn: StreamConn) => {
    conn[Symbol.dispose]();
    if (--open === 0 && stopped) allClosed.resolve();
  };
  const refuse = (conn: StreamConn, { reason, fields }: Refusal) => {
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
  const admission = new Admission(
    options.access,
    addressLimit,
    options.proxyProtocol,
  );
  // Serves a connection that `admission.admit` let in (`ticket`);
  // releases it when the connection ends.
  const serve = (
    accepted: StreamConn,
    client: Deno.Addr,
    ticket: AdmissionTicket,
    read?: Uint8Array,
  ) => {
    // A TLS connection read before its handshake (for a PROXY header)
    // starts TLS now, with what was read after the header.
    const deferred = startsTlsLater(accepted);
    const conn = deferred
      ? accepted.startTls(read ?? new Uint8Array())
      : accepted;
    const prefix = deferred ? undefined : read;
    const id = ++summary.connections;
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
      admission.release(ticket);
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
  const admitAndServe = (
    conn: StreamConn,
    client: Deno.Addr,
    prefix?: Uint8Array,
  ) => {
    const admitted = admission.admit(hostOf(client));
    if ("reason" in admitted) {
      refuse(conn, admitted);
      release(conn);
      return;
    }
    serve(conn, client, admitted, prefix);
  };
  const headerOptions = {
    timeout: proxyTimeout,
    signal: drainDeadline.signal,
  };
  // A trusted proxy's connection: the client is known once its header has
  // arrived, and is admitted under that address.
  const serveFromProxy = async (
    conn: StreamConn,
    proxy: ProxyProtocolOptions,
  ) => {
    const pending = admission.startHeader();
    if (pending !== undefined) {
      refuse(conn, pending);
      release(conn);
      return;
    }
    let proxied: ProxiedConnection;
    try {
      proxied = await readProxyHeader(conn, {
        ...headerOptions,
        optional: proxy.optional ?? false,
      });
    } catch (error) {
      refuse(conn, {
        reason: "proxy-protocol",
        fields: { error: describe(error) },
      });
      release(conn);
      return;
    } finally {
      admission.headerDone();
    }
    // A LOCAL header (the proxy's own health check), or none, is served as
    // the proxy itself.
    const client = proxied.source === undefined
      ? conn.remoteAddr
      : { transport: "tcp" as const, ...proxied.source };
    admitAndServe(conn, client, proxied.rest);
  };
  // Anyone else: admitted under its own address before its first bytes
  // are read, so waiting for them counts against that address; a header
  // from it is refused, not believed.
  const serveUntrusted = async (conn: StreamConn) => {
    const admitted = admission.admit(hostOf(conn.remoteAddr));
    if ("reason" in admitted) {
      refuse(conn, admitted);
      release(conn);
      return;
    }
    let first: ProxiedConnection | undefined;
    let refusedFor: Refusal;
    try {
      first = await readProxyHeader(conn, { ...headerOptions, optional: true });
      refusedFor = {
        reason: "untrusted-proxy",
        fields: { error: "PROXY header from an untrusted peer" },
      };
    } catch (error) {
      // Silent past the header deadline, or gone mid-way through
      // something that began like a header.
      refusedFor = {
        reason: "proxy-protocol",
        fields: { error: describe(error) },
      };
    }
    if (first !== undefined && !first.header) {
      serve(conn, conn.remoteAddr, admitted, first.rest);
      return;
    }
    refuse(conn, refusedFor);
    admission.release(admitted);
    release(conn);
  };
  let stopped = false;

  const connections = acceptConnections(listener, {
    ...(signal !== undefined && { signal }),
    onError: ({ kind, error, retryMs }) => {
      summary.acceptErrors[kind]++;
      metrics?.acceptError(kind);
      warnings.event("accept-error", {
        kind,
        error: describe(error),
        retry_ms: retryMs,
      });
    },
  });
  for await (const conn of connections) {
    if (open >= maxConnections) {
      refuse(conn, {
        reason: "max-connections",
        fields: { limit: maxConnections },
      });
      closeQuietly(conn);
      continue;
    }
    open++;
    const proxy = options.proxyProtocol;
    if (proxy === undefined) admitAndServe(conn, conn.remoteAddr);
    else if (admission.trusts(conn.remoteAddr)) serveFromProxy(conn, proxy);
    else serveUntrusted(conn);
  }

  stopped = true;
  if (open > 0) {
    logger.event("draining", { connections: open, timeout_ms: drainTimeout });
    const deadline = setTimeout(() => drainDeadline.abort(), drainTimeout);
    await allClosed.promise;
    clearTimeout(deadline);
  }
  return summary;
}

function startsTlsLater(conn: StreamConn): conn is PlainBeforeTls {
  return "startTls" in conn;
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
 *
 * The drain deadline (`options.signal`) ends the wait too. The handshake
 * is raced rather than awaited: a `Deno.listenTls` connection closed
 * mid-handshake may never settle it, and shutdown must not wait for it.
 */
async function handshakeThenEcho(
  conn: TlsConn,
  timeoutMs: number,
  options: EchoConnectionOptions,
): Promise<EchoResult> {
  const cut = Promise.withResolvers<never>();
  const stop = { close: () => cut.reject(new Error("Shutting down")) };
  {
    using deadline = timeoutMs > 0
      ? new IdleTimer(timeoutMs, () => stop.close())
      : undefined;
    using _drain = options.signal === undefined
      ? undefined
      : closeOnAbort(options.signal, stop);
    try {
      if (options.signal?.aborted) stop.close();
      await Promise.race([conn.handshake(), cut.promise]);
    } catch (error) {
      closeQuietly(conn);
      return {
        bytesEchoed: 0,
        reason: deadline?.expired || !options.signal?.aborted
          ? "tls-handshake"
          : "shutdown",
        error: deadline?.expired
          ? new Error(`Handshake not finished within ${timeoutMs} ms`)
          : error,
      };
    }
  }
  return await echoConnection(conn, options);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
