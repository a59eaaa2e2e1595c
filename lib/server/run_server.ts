/**
 * The whole server as one call: load or generate the TLS certificate, open
 * the listeners, start the `--workers` threads, serve TCP/TLS/Unix and UDP
 * echo until the signal aborts, drain, log the totals.
 *
 * @module
 */

import {
  type AcceptErrorKind,
  delay,
  type Endpoint,
  isLoopback,
  type TlsSettings,
} from "../net/mod.ts";
import {
  canStartWorker,
  FAIRNESS_VARIABLE,
  prepareFairWorkers,
} from "../thread/mod.ts";
import {
  EventThrottle,
  LOG_FLUSH_TIMEOUT_MS,
  Logger,
  stderrLines,
} from "../log/mod.ts";
import {
  checkCertifiedKey,
  fingerprint,
  generateSelfSigned,
} from "../tls/mod.ts";
import { AddressLimit } from "../access/mod.ts";
import {
  type AdminServer,
  type FaultsRoute,
  startAdminServer,
} from "../admin/mod.ts";
import {
  FaultBoard,
  type FaultSettings,
  faultsToJson,
  parseFaults,
} from "../faults/mod.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/mod.ts";
import { BufferBudget, DEFAULT_BUFFER_BUDGET } from "./buffer_budget.ts";
import { ServerMetrics } from "./server_metrics.ts";
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  type ServeSummary,
} from "./serve_options.ts";
import {
  type ServiceAddresses,
  type ServiceSettings,
  type ServiceTotals,
  startEchoService,
} from "./echo_service.ts";
import type { UdpSummary } from "./udp_echo_server.ts";
import { startEchoWorkers, WORKER_ROOT } from "./worker_pool.ts";
import type {
  Listening,
  RunServerOptions,
  ThreadOptions,
} from "./run_server_options.ts";
import { serverInfo } from "./server_info.ts";
import { DEFAULT_MAX_PENDING_HEADERS } from "./admission.ts";

/** Totals over the server's lifetime, all workers included. */
export interface ServerSummary extends ServeSummary {
  /** UDP totals, when UDP was served. */
  udp?: UdpSummary;
  /** The buffer budget, in bytes. */
  bufferBudget: number;
  /** The most buffer bytes in use at once, over all connections. */
  bufferPeak: number;
  /** Log lines dropped because stderr was not being read. */
  logLinesDropped: number;
}

/**
 * Runs the echo server until `options.signal` aborts, then drains and
 * resolves with the totals (also logged as the `stopped` event).
 *
 * @param options What to listen on, limits, TLS, workers and logging.
 * @returns The totals.
 * @throws {Deno.errors.AddrInUse} And the other listen errors, before
 * anything is served.
 * @throws {UsageError} If a given key does not belong to its certificate.
 *
 * @example
 * ```ts
 * import { runServer } from "./run_server.ts";
 * const stop = new AbortController();
 * const done = runServer({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
 *   signal: stop.signal,
 *   onListening: ({ stream }) => console.log(stream),
 * });
 * stop.abort("SIGTERM");
 * await done;
 * ```
 */
export async function runServer(
  options: RunServerOptions,
): Promise<ServerSummary> {
  const { workers = 1, log = {}, signal } = options;
  const logger = new Logger(log);
  const tls = options.tls === undefined ? undefined : await loadTls(options);
  const budget = new BufferBudget(
    options.bufferBudget ?? DEFAULT_BUFFER_BUDGET,
  );
  const metrics = new ServerMetrics();
  const addressLimit = newAddressLimit(options);
  const faults = options.faults !== undefined || options.liveFaults
    ? new FaultBoard(options.faults)
    : undefined;
  stderrLines.onDrop = () => metrics.logLineDropped();
  // The admin endpoint comes first, so that a prober sees "not ready"
  // until the listeners are up, and "ready" ends when the drain begins.
  let ready = false;
  // Filled in once everything listens; `/info` shows it from then on.
  const served: { listening?: Listening } = {};
  const startedAt = new Date();
  using adminWarnings = new EventThrottle(logger);
  await using admin = options.admin === undefined
    ? undefined
    : startAdmin(options.admin, {
      ready: () => ready,
      metrics: () =>
        metrics.render({
          bufferBytes: budget.inUse,
          udp: options.udp ?? false,
          tls: tls !== undefined,
          ...(addressLimit !== undefined &&
            { perIpUncounted: addressLimit.uncounted }),
          ...(faults !== undefined &&
            { faults: faultsToJson(faults.current()) }),
        }),
      ...(faults !== undefined &&
        { faults: faultsRoute(faults, options.liveFaults ?? false, logger) }),
      info: () =>
        JSON.stringify(
          serverInfo(options, served.listening, {
            startedAt,
            faults: faults?.current(),
          }),
        ),
      warnings: adminWarnings,
    });
  const settings = serviceSettings(options, {
    ...(tls !== undefined && { tls }),
    budget,
    metrics,
    ...(addressLimit !== undefined && { addressLimit }),
    ...(faults !== undefined && { faults }),
  });
  const service = await startServing(settings, workers, logger);
  const { stream, datagram } = service.addresses;
  logger.event("serving", {
    threads: workers,
    in_workers: !service.inThisThread,
    max_io_events_per_tick: service.maxIoEventsPerTick ?? "default",
  });
  const listening: Listening = {
    ...(stream !== undefined && { stream }),
    ...(datagram !== undefined && { datagram }),
    ...(tls !== undefined &&
      { tls: { cert: tls.cert, fingerprint: await fingerprint(tls.cert) } }),
    ...(admin !== undefined && { admin: admin.addr }),
  };
  served.listening = listening;
  await options.onListening?.(listening);
  ready = true;
  if (datagram !== undefined) warnIfReflectable(datagram, options, logger);

  // Serve until the signal, or until a serving thread dies: then the
  // process must not go on answering health checks with nothing behind
  // them, so it stops and fails (a supervisor restarts it).
  const failure = await untilStopOrFailure(signal, service.failed);
  if (failure !== undefined) {
    ready = false;
    service.terminate();
    await stderrLines.flush(LOG_FLUSH_TIMEOUT_MS);
    throw failure;
  }
  // Not ready from the moment the drain begins, so that a load balancer
  // stops sending before connections are cut; healthy until the end.
  ready = false;
  await shutdownDelay(options, logger);
  const totals = await drain(service, options, logger);
  const summary = summarize(totals, {
    budget,
    metrics,
    mainThreadLogLines: service.inThisThread ? 0 : stderrLines.dropped,
  });
  logStopped(logger, summary, stream !== undefined);
  // Give the summary its chance to reach stderr, but never wait on a
  // stderr that nobody reads.
  await stderrLines.flush(LOG_FLUSH_TIMEOUT_MS);
  return summary;
}

/**
 * With `limits.shutdownDelay`: goes on accepting (and serving) that long
 * while `/readyz` says 503, so that load balancers notice before the
 * drain. A second signal still exits at once (see cli/shutdown.ts).
 */
async function shutdownDelay(
  options: RunServerOptions,
  logger: Logger,
): Promise<void> {
  const ms = options.limits?.shutdownDelay ?? 0;
  if (ms <= 0) return;
  logger.event("shutdown-delay", {
    signal: options.signal?.reason === undefined
      ? undefined
      : String(options.signal.reason),
    delay_ms: ms,
  });
  await delay(ms);
}

/**
 * Stops accepting, lets the threads drain, and returns their totals; or
 * undefined if they overran the drain deadline and were stopped.
 */
async function drain(
  service: Serving,
  options: RunServerOptions,
  logger: Logger,
): Promise<ServiceTotals[] | undefined> {
  // Logged once no thread accepts any more: from then on, new clients are
  // refused.
  await service.stopAccepting();
  const reason = options.signal?.reason;
  logger.event("shutdown", {
    signal: reason === undefined ? undefined : String(reason),
    drain_timeout_ms: options.limits?.drainTimeout,
  });
  // Whatever clients do, the process ends within the drain timeout plus
  // a second: a thread still busy by then is stopped, and the summary is
  // taken from the shared metrics instead of its report.
  const totals = await withDeadline(
    service.stop(),
    (options.limits?.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS) +
      DRAIN_OVERRUN_MS,
  );
  if (totals === undefined) {
    service.terminate();
    logger.event("warning", {
      message: "Drain overran --drain-timeout: threads stopped by force",
    });
  }
  return totals;
}

/** Warns that UDP echo reachable from other hosts can reflect traffic. */
function warnIfReflectable(
  datagram: Deno.Addr,
  options: RunServerOptions,
  logger: Logger,
): void {
  if (isLoopback((datagram as Deno.NetAddr).hostname)) return;
  logger.event("warning", {
    message:
      "UDP echo on a non-loopback address can be used for reflection attacks; --udp-rate caps each source",
    udp_rate_per_s: options.udpRate,
  });
}

/**
 * Resolves when `signal` aborts (undefined) or a serving thread fails
 * (its error), whichever comes first.
 */
function untilStopOrFailure(
  signal: AbortSignal | undefined,
  failed: Promise<Error>,
): Promise<Error | undefined> {
  if (signal?.aborted) return Promise.resolve(undefined);
  return Promise.race([
    new Promise<undefined>((resolve) =>
      signal?.addEventListener("abort", () => resolve(undefined), {
        once: true,
      })
    ),
    failed,
  ]);
}

/** The admin endpoint, its accept errors logged through `warnings`. */
function startAdmin(
  address: { hostname: string; port: number },
  state: {
    ready: () => boolean;
    metrics: () => string;
    faults?: FaultsRoute;
    info: () => string;
    warnings: EventThrottle;
  },
): AdminServer {
  return startAdminServer({
    ...address,
    ready: state.ready,
    metrics: state.metrics,
    ...(state.faults !== undefined && { faults: state.faults }),
    info: state.info,
    metricsContentType: PROMETHEUS_CONTENT_TYPE,
    // The message only, never the stack: mapping a stack needs a file
    // descriptor, exactly what is missing when accept fails for lack of
    // them.
    onAcceptError: ({ kind, error, retryMs }) =>
      state.warnings.event("admin-accept-error", {
        kind,
        error: error instanceof Error ? error.message : String(error),
        retry_ms: retryMs,
      }),
  });
}

/**
 * `/faults` on the admin endpoint: shows the board; with `live`, replaces
 * it from a JSON object of the flags' names and values, and logs who
 * changed what (the values as parsed, never the body as sent).
 */
function faultsRoute(
  board: FaultBoard,
  live: boolean,
  logger: Logger,
): FaultsRoute {
  const show = () => JSON.stringify(faultsToJson(board.current()));
  if (!live) return { show };
  return {
    show,
    change(body: string): { json: string } | { error: string } {
      let faults: FaultSettings;
      try {
        const parsed: unknown = JSON.parse(body);
        if (
          typeof parsed !== "object" || parsed === null || Array.isArray(parsed)
        ) {
          return {
            error: 'expected a JSON object of faults, e.g. {"delay":"200ms"}',
          };
        }
        faults = parseFaults(parsed as Record<string, unknown>);
      } catch (error) {
        return {
          error: error instanceof Error ? error.message : String(error),
        };
      }
      board.set(faults);
      const json = show();
      logger.event("faults", { set: json });
      return { json };
    },
  };
}

/** Each thread's share of `limits.maxConnections`. */
function connectionsPerThread(options: RunServerOptions): number {
  return Math.ceil(
    (options.limits?.maxConnections ?? Infinity) / (options.workers ?? 1),
  );
}

/**
 * The per-address limit, if asked for: with room for every connection the
 * server may hold, so that no address goes uncounted; without a
 * connection limit, the table's default size.
 */
function newAddressLimit(options: RunServerOptions): AddressLimit | undefined {
  if (options.maxConnectionsPerIp === undefined) return undefined;
  const { workers = 1 } = options;
  const perThread = connectionsPerThread(options);
  return new AddressLimit({
    limit: options.maxConnectionsPerIp,
    ...(options.ipv6Prefix !== undefined &&
      { ipv6PrefixLength: options.ipv6Prefix }),
    ...(Number.isFinite(perThread) && { capacity: perThread * workers }),
  });
}

/**
 * What every serving thread is sent: the options in the form a thread
 * uses, with the per-thread shares of the limits and the shared memory of
 * the budget, metrics and per-address counts.
 */
function serviceSettings(
  options: RunServerOptions,
  shared: {
    tls?: TlsSettings;
    budget: BufferBudget;
    metrics: ServerMetrics;
    addressLimit?: AddressLimit;
    faults?: FaultBoard;
  },
): ServiceSettings {
  const { workers = 1, proxyProtocol } = options;
  const maxConnectionsPerThread = connectionsPerThread(options);
  return {
    options: {
      endpoint: options.endpoint,
      ...(options.tcp !== undefined && { tcp: options.tcp }),
      ...(options.udp !== undefined && { udp: options.udp }),
      ...(options.udpRate !== undefined && { udpRate: options.udpRate }),
      // The limits as given, but each thread's share of the connections.
      limits: { ...options.limits, maxConnections: maxConnectionsPerThread },
      ...(proxyProtocol !== undefined && {
        proxyProtocol: {
          ...proxyProtocol,
          maxPending: Math.ceil(
            (proxyProtocol.maxPending ?? DEFAULT_MAX_PENDING_HEADERS) /
              workers,
          ),
        },
      }),
      ...(options.access !== undefined && { access: options.access }),
      ...(options.log !== undefined && { log: options.log }),
      ...(options.service !== undefined && { service: options.service }),
      ...(options.liveFaults !== undefined &&
        { liveFaults: options.liveFaults }),
      ...(options.banner !== undefined && { banner: options.banner }),
    } satisfies ThreadOptions,
    ...(shared.tls !== undefined && { tls: shared.tls }),
    shared: {
      budget: shared.budget.toShared(),
      metrics: shared.metrics.toShared(),
      ...(shared.addressLimit !== undefined &&
        { addressLimit: shared.addressLimit.toShared() }),
      ...(shared.faults !== undefined &&
        { faults: shared.faults.toShared() }),
    },
    reusePort: false,
  };
}

/**
 * The server's totals: the threads' reports added up, or, if the drain
 * overran and they were stopped (`totals` undefined), the shared metrics.
 */
function summarize(
  totals: ServiceTotals[] | undefined,
  shared: {
    budget: BufferBudget;
    metrics: ServerMetrics;
    /** Log lines the main thread dropped, when it does not serve itself. */
    mainThreadLogLines: number;
  },
): ServerSummary {
  const udp = totals?.find((part) => part.udp !== undefined)?.udp;
  return {
    ...(totals === undefined
      ? shared.metrics.streamTotals()
      : sumServed(totals.map((part) => part.served))),
    bufferBudget: shared.budget.limit,
    bufferPeak: shared.budget.peak,
    logLinesDropped: (totals ?? []).reduce(
      (total, part) => total + part.logLinesDropped,
      shared.mainThreadLogLines,
    ),
    ...(udp !== undefined && { udp }),
  };
}

/** The `stopped` event: the totals, stream and UDP as served. */
function logStopped(
  logger: Logger,
  summary: ServerSummary,
  stream: boolean,
): void {
  const { udp } = summary;
  logger.event("stopped", {
    ...(stream && {
      connections: summary.connections,
      refused: summary.refused,
      bytes_echoed: summary.bytesEchoed,
      accept_errors: summary.acceptErrors.connection +
        summary.acceptErrors.exhausted + summary.acceptErrors.other,
      buffer_peak_bytes: summary.bufferPeak,
      buffer_budget_bytes: summary.bufferBudget,
    }),
    ...(udp !== undefined && {
      udp_datagrams: udp.datagrams,
      udp_bytes_echoed: udp.bytesEchoed,
      udp_oversized: udp.oversized,
      udp_rate_limited: udp.rateLimited,
    }),
    log_lines_dropped: summary.logLinesDropped,
  });
}

/**
 * How long past `--drain-timeout` the drain may run before its threads are
 * stopped: half of the second the process is allowed past it, the other
 * half left for the summary.
 */
const DRAIN_OVERRUN_MS = 500;

/** `promise`'s value, or undefined if it takes longer than `ms`. */
async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Serving, in Workers or in this thread. */
interface Serving {
  /** Resolves once no thread accepts any more. */
  stopAccepting(): Promise<void>;
  addresses: ServiceAddresses;
  maxIoEventsPerTick: string | undefined;
  /** Whether the service runs in this thread (no Workers). */
  inThisThread: boolean;
  stop(): Promise<ServiceTotals[]>;
  /** Ends every thread's serving at once (a drain that overran). */
  terminate(): void;
  /** Resolves with the error of a serving thread that died. */
  failed: Promise<Error>;
}

/**
 * Serves in Workers, where sockets are scheduled fairly. Under `deno run`
 * without read permission for `lib/`, a Worker cannot load: one thread is
 * then served here, with a warning, and more are refused.
 */
async function startServing(
  settings: ServiceSettings,
  workers: number,
  logger: Logger,
): Promise<Serving> {
  const fairness = prepareFairWorkers();
  if (canStartWorker(WORKER_ROOT)) {
    const pool = await startEchoWorkers(settings, workers);
    if (fairness === "no-permission") {
      logger.event("warning", {
        message:
          `No env permission for ${FAIRNESS_VARIABLE}: busy connections may wait up to a second (run with --allow-env=${FAIRNESS_VARIABLE})`,
      });
    }
    return { ...pool, inThisThread: false };
  }
  if (workers > 1) {
    throw new Deno.errors.NotCapable(
      `--workers also needs --allow-read for lib/ under deno run (its threads load their modules from ${WORKER_ROOT.pathname})`,
    );
  }
  const service = await startEchoService(settings);
  logger.event("warning", {
    message:
      `No read permission for ${WORKER_ROOT.pathname}: serving without fair scheduling, busy connections may wait up to a second (run with --allow-read=lib --allow-env=${FAIRNESS_VARIABLE}, as deno task serve does)`,
  });
  return {
    addresses: service.addresses,
    maxIoEventsPerTick: service.maxIoEventsPerTick,
    inThisThread: true,
    stopAccepting: () => Promise.resolve(service.stopAccepting()),
    stop: async () => [await service.stop()],
    // This thread's connections end with the process, right after.
    terminate: () => {},
    // An uncaught error here ends the process by itself.
    failed: new Promise<Error>(() => {}),
  };
}

/**
 * The TLS certificate and key, given or generated for the names clients
 * will use, checked so that a key that does not match its certificate
 * fails here with a clear message.
 */
async function loadTls(options: RunServerOptions): Promise<TlsSettings> {
  const source = options.tls;
  const material = source === undefined || "generate" in source
    ? await generateSelfSigned(certificateNames(options.endpoint))
    : source;
  checkCertifiedKey(material);
  return {
    cert: material.cert,
    key: material.key,
    ...(options.alpn !== undefined && { alpnProtocols: options.alpn }),
    // A handshake deadline closes clients mid-handshake, which Deno's own
    // TLS listener cannot do without leaving their sockets open.
    closableHandshakes: (options.limits?.handshakeTimeout ?? 0) > 0,
    // A PROXY header comes before the TLS handshake.
    ...(options.proxyProtocol !== undefined && { deferHandshake: true }),
  };
}

/** The names a generated certificate covers: what clients will dial. */
function certificateNames(endpoint: Endpoint): string[] {
  const host = endpoint.transport === "tcp" ? endpoint.hostname : "localhost";
  const local = ["localhost", "127.0.0.1", "::1"];
  if (host === "0.0.0.0" || host === "::") return local;
  return isLoopback(host) ? [...new Set([host, ...local])] : [host];
}

function sumServed(parts: (ServeSummary | undefined)[]): ServeSummary {
  const total: ServeSummary = {
    connections: 0,
    refused: 0,
    bytesEchoed: 0,
    acceptErrors: { connection: 0, exhausted: 0, other: 0 },
  };
  for (const part of parts) {
    if (part === undefined) continue;
    total.connections += part.connections;
    total.refused += part.refused;
    total.bytesEchoed += part.bytesEchoed;
    for (const kind of Object.keys(total.acceptErrors) as AcceptErrorKind[]) {
      total.acceptErrors[kind] += part.acceptErrors[kind];
    }
  }
  return total;
}
