/**
 * What happens to each accepted connection: the connection limit, the
 * PROXY header (from trusted proxies) or the check that there is none
 * (from anyone else), admission under the client's address, the TLS
 * handshake, the echo loop, the log lines and counts; and the drain that
 * waits for them all. `serveEcho` feeds it the accept loop.
 *
 * @module
 */

import { type BannerFacts, renderBanner } from "../banner/mod.ts";
import { EventThrottle, Logger } from "../log/mod.ts";
import { type ProxiedConnection, readProxyHeader } from "../proxy/mod.ts";
import {
  type AcceptError,
  closeOnAbort,
  closeQuietly,
  formatAddress,
  IdleTimer,
  type PlainBeforeTls,
  type StreamConn,
  type TlsSessionInfo,
  writeAll,
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
  type EchoConnectionOptions,
  type EchoResult,
  reasonFor,
} from "./echo_connection.ts";
import {
  ConnectionServices,
  type ServeConnection,
} from "./_connection_services.ts";
import type { ServerMetrics } from "./server_metrics.ts";
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  type ServeEchoOptions,
  type ServerBanner,
  type ServeSummary,
} from "./serve_options.ts";

/** How long a PROXY header may take when no handshake timeout is set. */
const DEFAULT_PROXY_TIMEOUT_MS = 10_000;

/** Takes accepted connections through admission to the echo loop. */
export class Dispatcher implements Disposable {
  readonly summary: ServeSummary = {
    connections: 0,
    refused: 0,
    bytesEchoed: 0,
    acceptErrors: { connection: 0, exhausted: 0, other: 0 },
  };
  readonly #options: ServeEchoOptions;
  readonly #logger: Logger;
  readonly #metrics: ServerMetrics | undefined;
  readonly #warnings: EventThrottle;
  readonly #admission: Admission;
  readonly #handshakeTimeout: number;
  readonly #maxConnections: number;
  readonly #headerOptions: { timeout: number; signal: AbortSignal };
  /** Aborted when the drain deadline passes: every wait then ends. */
  readonly #drainDeadline = new AbortController();
  readonly #connectionOptions: EchoConnectionOptions;
  readonly #services: ConnectionServices;
  // Connections still being served; the drain waits for this to reach 0.
  // A counter and one `.then` per connection rather than a set of tracked
  // promises and a wrapping async call: each idle connection then keeps
  // only its own suspended echo loop alive (see experiments/README.md).
  #open = 0;
  #stopped = false;
  readonly #allClosed = Promise.withResolvers<void>();

  /** @param options The server's options. */
  constructor(options: ServeEchoOptions) {
    this.#options = options;
    this.#logger = options.logger ?? new Logger();
    this.#metrics = options.metrics;
    this.#warnings = new EventThrottle(this.#logger);
    this.#admission = new Admission(
      options.access,
      options.addressLimit,
      options.proxyProtocol,
    );
    const limits = options.limits ?? {};
    this.#handshakeTimeout = limits.handshakeTimeout ?? 0;
    this.#maxConnections = limits.maxConnections ?? Infinity;
    this.#headerOptions = {
      timeout: this.#handshakeTimeout > 0
        ? this.#handshakeTimeout
        : DEFAULT_PROXY_TIMEOUT_MS,
      signal: this.#drainDeadline.signal,
    };
    this.#services = new ConnectionServices(options);
    this.#connectionOptions = {
      signal: this.#drainDeadline.signal,
      budget: options.budget ?? new BufferBudget(DEFAULT_BUFFER_BUDGET),
      ...(limits.maxBufferSize !== undefined &&
        { maxBufferSize: limits.maxBufferSize }),
      ...(limits.idleTimeout !== undefined &&
        { idleTimeout: limits.idleTimeout }),
    };
  }

  /** Counts and logs (throttled) a failed accept. */
  acceptFailed({ kind, error, retryMs }: AcceptError): void {
    this.summary.acceptErrors[kind]++;
    this.#metrics?.acceptError(kind);
    this.#warnings.event("accept-error", {
      kind,
      error: describe(error),
      retry_ms: retryMs,
    });
  }

  /** Takes over an accepted connection: refuses it, or serves it. */
  accept(conn: StreamConn): void {
    const maxConnections = this.#maxConnections;
    if (this.#open >= maxConnections) {
      this.#refuse(conn, {
        reason: "max-connections",
        fields: { limit: maxConnections },
      });
      closeQuietly(conn);
      return;
    }
    this.#open++;
    const proxy = this.#options.proxyProtocol;
    if (proxy === undefined) this.#admitAndServe(conn, undefined);
    else if (this.#admission.trusts(conn.remoteAddr)) {
      this.#serveFromProxy(conn, proxy);
    } else this.#serveUntrusted(conn);
  }

  /**
   * Once no more connections come: lets the open ones finish until the
   * drain timeout, then closes them (reason `shutdown`).
   *
   * @returns The totals, once every connection has ended.
   */
  async drain(): Promise<ServeSummary> {
    this.#stopped = true;
    if (this.#open > 0) {
      const drainTimeout = this.#options.limits?.drainTimeout ??
        DEFAULT_DRAIN_TIMEOUT_MS;
      this.#logger.event("draining", {
        connections: this.#open,
        timeout_ms: drainTimeout,
      });
      const deadline = setTimeout(
        () => this.#drainDeadline.abort(),
        drainTimeout,
      );
      await this.#allClosed.promise;
      clearTimeout(deadline);
    }
    return this.summary;
  }

  [Symbol.dispose](): void {
    this.#warnings[Symbol.dispose]();
  }

  /** Closes a connection this dispatcher was counting. */
  #release(conn: StreamConn): void {
    conn[Symbol.dispose]();
    if (--this.#open === 0 && this.#stopped) this.#allClosed.resolve();
  }

  #refuse(conn: StreamConn, { reason, fields }: Refusal): void {
    this.summary.refused++;
    this.#metrics?.refused(reason);
    if (this.#logger.logsConnections) {
      this.#warnings.event("refused", {
        peer: formatAddress(conn.remoteAddr),
        reason,
        ...fields,
      }, `refused ${reason}`);
    }
  }

  /**
   * Admits `conn` under its client's address (`proxyClient`, from a PROXY
   * header, or its own) and serves it.
   */
  #admitAndServe(
    conn: StreamConn,
    proxyClient: Deno.Addr | undefined,
    read?: Uint8Array,
  ): void {
    const admitted = this.#admission.admit(
      hostOf(proxyClient ?? conn.remoteAddr),
    );
    if ("reason" in admitted) {
      this.#refuse(conn, admitted);
      this.#release(conn);
      return;
    }
    this.#serve(conn, admitted, { proxyClient, read });
  }

  /**
   * A trusted proxy's connection: the client is known once its header has
   * arrived, and is admitted under that address.
   */
  async #serveFromProxy(
    conn: StreamConn,
    proxy: ProxyProtocolOptions,
  ): Promise<void> {
    const pending = this.#admission.startHeader();
    if (pending !== undefined) {
      this.#refuse(conn, pending);
      this.#release(conn);
      return;
    }
    let proxied: ProxiedConnection;
    try {
      proxied = await readProxyHeader(conn, {
        ...this.#headerOptions,
        optional: proxy.optional ?? false,
      });
    } catch (error) {
      this.#refuse(conn, {
        reason: "proxy-protocol",
        fields: { error: describe(error) },
      });
      this.#release(conn);
      return;
    } finally {
      this.#admission.headerDone();
    }
    // A LOCAL header (the proxy's own health check), or none, is served as
    // the proxy itself.
    const client = proxied.source === undefined
      ? undefined
      : { transport: "tcp" as const, ...proxied.source };
    this.#admitAndServe(conn, client, proxied.rest);
  }

  /**
   * Anyone else: admitted under its own address before its first bytes
   * are read, so waiting for them counts against that address; a header
   * from it is refused, not believed.
   */
  async #serveUntrusted(conn: StreamConn): Promise<void> {
    const admitted = this.#admission.admit(hostOf(conn.remoteAddr));
    if ("reason" in admitted) {
      this.#refuse(conn, admitted);
      this.#release(conn);
      return;
    }
    // Its banner first: a client that waits for it (echo-client --banner)
    // would otherwise wait for us while we wait for its first bytes. Over
    // TLS the client speaks first anyway, and the banner follows the
    // handshake.
    const banner = this.#options.banner;
    const greeted = banner !== undefined && !startsTlsLater(conn) &&
      this.#options.faults?.current().blackhole !== true;
    if (greeted) {
      const line = greeting(banner, conn, undefined, conn.localAddr, undefined);
      if (await sendBanner(conn, line, this.#connectionOptions) !== undefined) {
        this.#admission.release(admitted);
        this.#release(conn);
        return;
      }
    }
    let first: ProxiedConnection | undefined;
    let refusal: Refusal;
    try {
      first = await readProxyHeader(conn, {
        ...this.#headerOptions,
        optional: true,
      });
      refusal = {
        reason: "untrusted-proxy",
        fields: { error: "PROXY header from an untrusted peer" },
      };
    } catch (error) {
      // Silent past the header deadline, or gone mid-way through
      // something that began like a header.
      refusal = {
        reason: "proxy-protocol",
        fields: { error: describe(error) },
      };
    }
    if (first !== undefined && !first.header) {
      this.#serve(conn, admitted, { read: first.rest, greeted });
      return;
    }
    this.#refuse(conn, refusal);
    this.#admission.release(admitted);
    this.#release(conn);
  }

  /**
   * Echoes on a connection admitted as `ticket`, logs and counts it, and
   * releases it when it ends. `proxyClient`: the client a PROXY header
   * named; `read`: bytes already read from it; `greeted`: its banner is
   * sent already.
   */
  #serve(
    accepted: StreamConn,
    ticket: AdmissionTicket,
    { proxyClient, read, greeted = false }: {
      proxyClient?: Deno.Addr | undefined;
      read?: Uint8Array | undefined;
      greeted?: boolean;
    },
  ): void {
    const client = proxyClient ?? accepted.remoteAddr;
    // A TLS connection read before its handshake (for a PROXY header)
    // starts TLS now, with what was read after the header.
    const deferred = startsTlsLater(accepted);
    const conn = deferred
      ? accepted.startTls(read ?? new Uint8Array())
      : accepted;
    const prefix = deferred ? undefined : read;
    const id = ++this.summary.connections;
    const openedAt = performance.now();
    this.#metrics?.opened();
    const service = this.#services.next();
    const { faults } = service;
    if (faults.length > 0) this.#metrics?.faultsApplied(faults);
    const logger = this.#logger;
    const peer = logger.logsConnections ? formatAddress(client) : "";
    if (logger.logsConnections) {
      logger.event("open", {
        conn: id,
        peer,
        active: this.#open,
        faults: faults.length > 0 ? faults.join(",") : undefined,
      });
    }
    const options = prefix === undefined
      ? this.#connectionOptions
      : { ...this.#connectionOptions, prefix };
    // A blackholed connection never answers, not even with a banner.
    const banner = greeted || faults.includes("blackhole")
      ? undefined
      : this.#options.banner;
    const echo = isTls(conn) || banner !== undefined
      ? openThenServe(conn, options, service.serve, {
        handshakeTimeout: this.#handshakeTimeout,
        ...(banner !== undefined && {
          greeting: (tls) =>
            greeting(banner, accepted, proxyClient, conn.localAddr, tls),
        }),
      })
      : service.serve(conn, options);
    echo.then((result) => {
      const durationMs = performance.now() - openedAt;
      this.summary.bytesEchoed += result.bytesEchoed;
      this.#metrics?.closed(result.bytesEchoed, durationMs, result.reason);
      this.#admission.release(ticket);
      this.#release(conn);
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
  }
}

function startsTlsLater(conn: StreamConn): conn is PlainBeforeTls {
  return "startTls" in conn;
}

/** A TLS connection: its handshake can be awaited. */
type TlsConn = StreamConn & { handshake(): Promise<TlsSessionInfo> };

function isTls(conn: StreamConn): conn is TlsConn {
  return "handshake" in conn;
}

/** What happens on a connection before its loop starts. */
interface Opening {
  /** The TLS handshake's deadline in ms; `0`: none. */
  handshakeTimeout: number;
  /** The banner to send first, made once the handshake is done. */
  greeting?: (tls: TlsSessionInfo | undefined) => Uint8Array;
}

/**
 * Opens a connection (the TLS handshake, then the banner, as far as it
 * has them) and serves it with `serve`.
 */
async function openThenServe(
  conn: StreamConn,
  options: EchoConnectionOptions,
  serve: ServeConnection,
  opening: Opening,
): Promise<EchoResult> {
  let tls: TlsSessionInfo | undefined;
  if (isTls(conn)) {
    const handshake = await handshakeWithin(
      conn,
      opening.handshakeTimeout,
      options.signal,
    );
    if ("reason" in handshake) return handshake;
    tls = handshake;
  }
  if (opening.greeting !== undefined) {
    const failed = await sendBanner(conn, opening.greeting(tls), options);
    if (failed !== undefined) return failed;
  }
  // Not awaited: this frame, and the closures it holds, can go while the
  // connection is served.
  return serve(conn, options);
}

/**
 * Completes the TLS handshake within `timeoutMs` (closing the connection
 * otherwise; `0`: no deadline). Without the deadline a client that
 * connects and sends nothing, or sends something that is not TLS, would
 * hold its slot and its descriptor until it went away.
 *
 * The drain deadline (`signal`) ends the wait too. The handshake is raced
 * rather than awaited: a `Deno.listenTls` connection closed mid-handshake
 * may never settle it, and shutdown must not wait for it.
 *
 * @returns What the handshake told, or how the connection ended.
 */
async function handshakeWithin(
  conn: TlsConn,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<TlsSessionInfo | EchoResult> {
  const cut = Promise.withResolvers<never>();
  const stop = { close: () => cut.reject(new Error("Shutting down")) };
  using deadline = timeoutMs > 0
    ? new IdleTimer(timeoutMs, () => stop.close())
    : undefined;
  using _drain = signal === undefined ? undefined : closeOnAbort(signal, stop);
  try {
    if (signal?.aborted) stop.close();
    return await Promise.race([conn.handshake(), cut.promise]);
  } catch (error) {
    closeQuietly(conn);
    return {
      bytesEchoed: 0,
      reason: deadline?.expired || !signal?.aborted
        ? "tls-handshake"
        : "shutdown",
      error: deadline?.expired
        ? new Error(`Handshake not finished within ${timeoutMs} ms`)
        : error,
    };
  }
}

/**
 * Writes the banner, within the idle timeout and the drain deadline (a
 * peer that never reads cannot hold the connection here either).
 *
 * @returns How the connection ended, if it did.
 */
async function sendBanner(
  conn: StreamConn,
  banner: Uint8Array,
  options: EchoConnectionOptions,
): Promise<EchoResult | undefined> {
  const { signal, idleTimeout = 0 } = options;
  using idle = idleTimeout > 0
    ? new IdleTimer(idleTimeout, () => conn.close())
    : undefined;
  using _drain = signal === undefined ? undefined : closeOnAbort(signal, conn);
  try {
    if (signal?.aborted) conn.close();
    await writeAll(conn, banner);
    return undefined;
  } catch (error) {
    closeQuietly(conn);
    if (signal?.aborted) return { bytesEchoed: 0, reason: "shutdown" };
    if (idle?.expired) return { bytesEchoed: 0, reason: "idle-timeout" };
    return { bytesEchoed: 0, reason: reasonFor(error), error };
  }
}

/**
 * The banner line for one connection: the host's fields, and what this
 * connection is (`accepted` is the socket; `local`, the address it came
 * in on).
 */
function greeting(
  banner: ServerBanner,
  accepted: StreamConn,
  proxyClient: Deno.Addr | undefined,
  local: Deno.Addr,
  tls: TlsSessionInfo | undefined,
): Uint8Array {
  const facts: BannerFacts = {
    ...banner.host,
    server: formatAddress(local),
    peer: formatAddress(accepted.remoteAddr),
    ...(proxyClient !== undefined &&
      { proxy_client: formatAddress(proxyClient) }),
    ...(tls?.serverName !== undefined && { sni: tls.serverName }),
    ...(typeof tls?.alpnProtocol === "string" && { alpn: tls.alpnProtocol }),
  };
  return renderBanner(banner.template, facts);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
