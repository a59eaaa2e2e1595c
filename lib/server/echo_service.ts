/**
 * What one thread serves: its listeners (stream and, for the first one,
 * UDP) and the echo on them, until told to stop. A `--workers` thread runs
 * one; so does the main thread when Workers cannot be started.
 *
 * @module
 */

import {
  LOG_FLUSH_TIMEOUT_MS,
  Logger,
  type LoggerOptions,
  stderrLines,
} from "../log/mod.ts";
import { type Endpoint, openListeners, type TlsSettings } from "../net/mod.ts";
import { fairnessSetting } from "../thread/mod.ts";
import {
  type AccessRules,
  AddressLimit,
  type AddressLimitShared,
} from "../access/mod.ts";
import { BufferBudget, type BufferBudgetShared } from "./buffer_budget.ts";
import { ServerMetrics } from "./server_metrics.ts";
import { serveEcho } from "./echo_server.ts";
import type { ServeLimits, ServeSummary } from "./serve_options.ts";
import { serveUdpEcho, type UdpSummary } from "./udp_echo_server.ts";
import type { ProxyProtocolOptions } from "./admission.ts";

/** Everything one thread needs to serve; plain data, so it can be posted. */
export interface ServiceSettings {
  /** Where to listen. */
  endpoint: Endpoint;
  /** Serve the stream protocol (TCP, TLS or Unix). */
  tcp: boolean;
  /** Serve UDP on the same port number. */
  udp: boolean;
  /** UDP datagrams per second per source address. */
  udpRate?: number;
  /** Set `SO_REUSEPORT`, so that other threads can listen on the port. */
  reusePort: boolean;
  /** Serve TLS with this material. */
  tls?: TlsSettings;
  /** Limits and timeouts. */
  limits: ServeLimits;
  /** The server-wide buffer budget (`BufferBudget.toShared`). */
  budget: BufferBudgetShared;
  /** The shared memory of the server's metrics. */
  metrics: SharedArrayBuffer;
  /** Which peers' PROXY headers are believed, and how they are read. */
  proxyProtocol?: ProxyProtocolOptions;
  /** Who may connect. */
  access?: AccessRules;
  /** The per-address limit, shared by every thread. */
  addressLimit?: AddressLimitShared;
  /** Log format and verbosity. */
  log: Pick<LoggerOptions, "format" | "quiet">;
  /** This thread's number in log lines, when there are several. */
  worker?: number;
}

/** The addresses a service listens on. */
export interface ServiceAddresses {
  /** The stream listener's address. */
  stream?: Deno.Addr;
  /** The UDP socket's address. */
  datagram?: Deno.Addr;
}

/** What a service served, once stopped. */
export interface ServiceTotals {
  /** Stream totals, if it served a stream listener. */
  served?: ServeSummary;
  /** UDP totals, if it served UDP. */
  udp?: UdpSummary;
  /** Log lines its thread dropped because stderr was not being read. */
  logLinesDropped: number;
}

/** A running service. */
export interface EchoService {
  /** Closes the listeners at once; open connections go on (drain). */
  stopAccepting(): void;
  /** Where it listens. */
  addresses: ServiceAddresses;
  /**
   * `DENO_TOKIO_MAX_IO_EVENTS_PER_TICK` as this thread's runtime saw it
   * when it started; undefined: the runtime's default (unfair).
   */
  maxIoEventsPerTick: string | undefined;
  /** Stops accepting, drains, and resolves with the totals. */
  stop(): Promise<ServiceTotals>;
}

/**
 * Opens the listeners `settings` ask for and serves echo on them.
 *
 * @param settings What to serve.
 * @returns The service, listening.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 */
export async function startEchoService(
  settings: ServiceSettings,
): Promise<EchoService> {
  const listeners = await openListeners({
    endpoint: settings.endpoint,
    stream: settings.tcp,
    udp: settings.udp,
    reusePort: settings.reusePort,
    ...(settings.tls !== undefined && { tls: settings.tls }),
  });
  const { stream, datagram } = listeners;
  const stop = new AbortController();
  const metrics = ServerMetrics.fromShared(settings.metrics);
  stderrLines.onDrop = () => metrics.logLineDropped();
  const logger = new Logger({
    ...settings.log,
    ...(settings.worker !== undefined &&
      { context: { worker: settings.worker } }),
  });
  const serving = Promise.all([
    stream === undefined ? undefined : serveEcho(stream, {
      limits: settings.limits,
      budget: BufferBudget.fromShared(settings.budget),
      signal: stop.signal,
      logger,
      metrics,
      ...(settings.proxyProtocol !== undefined &&
        { proxyProtocol: settings.proxyProtocol }),
      ...(settings.access !== undefined && { access: settings.access }),
      ...(settings.addressLimit !== undefined && {
        addressLimit: AddressLimit.fromShared(settings.addressLimit),
      }),
    }),
    datagram === undefined ? undefined : serveUdpEcho(datagram, {
      signal: stop.signal,
      ...(settings.udpRate !== undefined && { rate: settings.udpRate }),
      logger,
      metrics,
    }),
  ]);
  return {
    addresses: {
      ...(stream !== undefined && { stream: stream.addr }),
      ...(datagram !== undefined && { datagram: datagram.addr }),
    },
    maxIoEventsPerTick: fairnessSetting(),
    stopAccepting: () => stop.abort(),
    async stop(): Promise<ServiceTotals> {
      stop.abort();
      const [served, udp] = await serving;
      listeners[Symbol.dispose]();
      // Lines still queued would be lost when a worker thread ends.
      await stderrLines.flush(LOG_FLUSH_TIMEOUT_MS);
      return {
        ...(served !== undefined && { served }),
        ...(udp !== undefined && { udp }),
        logLinesDropped: stderrLines.dropped,
      };
    },
  };
}
