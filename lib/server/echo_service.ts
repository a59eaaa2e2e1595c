/**
 * What one thread serves: its listeners (stream and, for the first one,
 * UDP) and the echo on them, until told to stop. A `--workers` thread runs
 * one; so does the main thread when Workers cannot be started.
 *
 * @module
 */

import { LOG_FLUSH_TIMEOUT_MS, Logger, stderrLines } from "../log/mod.ts";
import { openListeners, type TlsSettings } from "../net/mod.ts";
import { fairnessSetting } from "../thread/mod.ts";
import { AddressLimit, type AddressLimitShared } from "../access/mod.ts";
import { FaultBoard } from "../faults/mod.ts";
import { BufferBudget, type BufferBudgetShared } from "./buffer_budget.ts";
import { ServerMetrics } from "./server_metrics.ts";
import { serveEcho } from "./echo_server.ts";
import type { ServeSummary } from "./serve_options.ts";
import { serveUdpEcho, type UdpSummary } from "./udp_echo_server.ts";
import type { ThreadOptions } from "./run_server_options.ts";

/** Everything one thread needs to serve; plain data, so it can be posted. */
export interface ServiceSettings {
  /**
   * The server's options as `runServer` got them, except each thread's
   * share of the connection limit and of the pending PROXY headers.
   */
  options: ThreadOptions;
  /** Serve TLS with this material (read, or generated, and checked). */
  tls?: TlsSettings;
  /** What every thread counts in, as shared memory. */
  shared: {
    /** The server-wide buffer budget (`BufferBudget.toShared`). */
    budget: BufferBudgetShared;
    /** The server's metrics (`ServerMetrics.toShared`). */
    metrics: SharedArrayBuffer;
    /** The per-address limit (`AddressLimit.toShared`). */
    addressLimit?: AddressLimitShared;
    /** The faults in force (`FaultBoard.toShared`). */
    faults?: SharedArrayBuffer;
  };
  /** Set `SO_REUSEPORT`, so that other threads can listen on the port. */
  reusePort: boolean;
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
  const { options, shared } = settings;
  const faults = shared.faults === undefined
    ? undefined
    : FaultBoard.fromShared(shared.faults);
  const listeners = await openListeners({
    endpoint: options.endpoint,
    stream: options.tcp ?? true,
    udp: options.udp ?? false,
    reusePort: settings.reusePort,
    ...(settings.tls !== undefined && { tls: settings.tls }),
    // Resets need sockets Deno.Conn is not: only when one may be asked for.
    resettable: faults?.current().resetAfter !== undefined ||
      (options.liveFaults ?? false),
  });
  const { stream, datagram } = listeners;
  const stop = new AbortController();
  const metrics = ServerMetrics.fromShared(shared.metrics);
  stderrLines.onDrop = () => metrics.logLineDropped();
  const logger = new Logger({
    ...options.log,
    ...(settings.worker !== undefined &&
      { context: { worker: settings.worker } }),
  });
  const serving = Promise.all([
    stream === undefined ? undefined : serveEcho(stream, {
      ...(options.limits !== undefined && { limits: options.limits }),
      budget: BufferBudget.fromShared(shared.budget),
      signal: stop.signal,
      logger,
      metrics,
      ...(options.proxyProtocol !== undefined &&
        { proxyProtocol: options.proxyProtocol }),
      ...(options.access !== undefined && { access: options.access }),
      ...(shared.addressLimit !== undefined && {
        addressLimit: AddressLimit.fromShared(shared.addressLimit),
      }),
      ...(options.service !== undefined && { service: options.service }),
      ...(faults !== undefined && { faults }),
      ...(options.liveFaults !== undefined &&
        { liveFaults: options.liveFaults }),
      ...(options.banner !== undefined && { banner: options.banner }),
    }),
    datagram === undefined ? undefined : serveUdpEcho(datagram, {
      signal: stop.signal,
      ...(options.udpRate !== undefined && { rate: options.udpRate }),
      logger,
      metrics,
      ...(options.service !== undefined && { service: options.service }),
      ...(faults !== undefined && { faults }),
      ...(options.banner !== undefined && { banner: options.banner }),
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
