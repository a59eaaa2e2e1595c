/**
 * The load generator behind `echo-client bench`: many connections in
 * ping-pong, stream or connect mode, every echoed byte verified.
 *
 * @module
 */

import { backendOf, BackendTally, readBanner } from "../banner/mod.ts";
import {
  closeOnAbort,
  closeQuietly,
  connectionErrorKind,
  connectWithTimeout,
  delay,
  type Endpoint,
  firstDifference,
  TimeoutError,
  type TlsClientOptions,
  writeAll,
} from "../net/mod.ts";
import { type ProxyVersion, sendProxyHeader } from "../proxy/mod.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import { UnverifiedBytes } from "../client/mod.ts";
import { Watchdog, type Watched } from "./_watchdog.ts";
import { MIN_UDP_LOAD_SIZE, type UdpCounts, udpSlot } from "./_udp_load.ts";

/** What each connection does. */
export type LoadMode = "ping-pong" | "stream" | "connect";

/** Options for {@linkcode runLoad}. */
export interface LoadOptions {
  /** The server: host and port, or a Unix socket. */
  endpoint: Endpoint;
  /**
   * `ping-pong`: send `size` bytes, wait for all of them, repeat;
   * `stream`: send continuously, verify as echo arrives;
   * `connect`: connect, send `size` bytes, receive them, close, repeat.
   * @default {"ping-pong"}
   */
  mode?: LoadMode;
  /** Concurrent connections (connect mode: concurrent connect loops). @default {1} */
  connections?: number;
  /** Message size (stream mode: write size) in bytes. @default {64} */
  size?: number;
  /** Stop after this many ms. @default {5000, unless `count` is given} */
  duration?: number;
  /**
   * Run this many ms before measuring, and leave that time out of the
   * report: connection setup and the JIT compiling our own loops would
   * otherwise show as the server's latency. `duration` and `count` start
   * after it.
   * @default {0}
   */
  warmup?: number;
  /** Stop after this many round trips (stream: messages). @default {unlimited} */
  count?: number;
  /**
   * Ping-pong only: total round trips per second, spread over the
   * connections. Latency is measured from when each request was due, so a
   * stalled server cannot hide its stall (no coordinated omission).
   * @default {as fast as possible}
   */
  rate?: number;
  /** Stream mode: most unverified bytes in flight per connection. @default {262144} */
  window?: number;
  /**
   * A connection that makes no progress (no echo, no connect) for this
   * many ms is ended and counted as a timeout.
   * @default {10000}
   */
  timeout?: number;
  /**
   * Load over UDP: each of `connections` slots sends a `size`-byte
   * datagram and waits up to `timeout` for its echo (ping-pong, `rate`
   * applies); lost, duplicated and reordered datagrams are counted.
   * @default {false}
   */
  udp?: boolean;
  /** Speak TLS on every connection, with these settings (TCP only). */
  tls?: TlsClientOptions;
  /**
   * Ping-pong: close each connection after this many round trips and open
   * a new one, so connection setup (and the TLS handshake) is part of the
   * load and measured apart.
   * @default {Infinity: one connection for the whole run}
   */
  messagesPerConnection?: number;
  /** Send a PROXY header first on every connection (TCP only). */
  sendProxy?: ProxyVersion;
  /**
   * Read the server's banner line (`echo-server --banner`) on every
   * connection before loading it, and count connections per backend
   * (stream connections only).
   * @default {false}
   */
  banner?: boolean;
  /** Abort to stop early; the report covers what ran. */
  signal?: AbortSignal;
  /** Live counters for a progress display, updated in place. */
  progress?: LoadProgress;
}

/** Counters updated while the load runs. */
export interface LoadProgress {
  /**
   * Round trips completed and verified (connect mode: connections; stream
   * mode: messages' worth of bytes, over all connections).
   */
  completed: number;
  /** Echoed bytes verified. */
  bytesVerified: number;
  /** Errors so far. */
  errors: number;
  /** Latencies so far, in µs. */
  latency: LatencyHistogram;
  /**
   * Latencies since whoever reports intervals last replaced it, in µs:
   * recorded too when present, so an interval's percentiles are its own.
   */
  intervalLatency?: LatencyHistogram;
  /** True during the warm-up, when nothing is counted yet. */
  warmingUp?: boolean;
}

/** What {@linkcode runLoad} measured. */
export interface LoadReport {
  /** The mode that ran. */
  mode: LoadMode;
  /** Concurrent connections. */
  connections: number;
  /** Message size in bytes. */
  size: number;
  /** Measured time in seconds (after the warm-up). */
  seconds: number;
  /** Warm-up time in seconds, not measured. */
  warmupSeconds: number;
  /** Round trips (connect mode: connections) completed and verified. */
  completed: number;
  /** Completed per second. */
  perSecond: number;
  /** With `rate`: the rate asked for, to show beside the one achieved. */
  targetPerSecond?: number;
  /** Echoed bytes verified. */
  bytesVerified: number;
  /** Verified echo throughput in MB/s (10^6 bytes). */
  megabytesPerSecond: number;
  /** Latency per round trip (connect mode: per connect-echo-close), in µs. */
  latency: LatencyHistogram;
  /** Time to connect (TCP), per connection opened while measuring, in µs. */
  connectLatency: LatencyHistogram;
  /** With TLS: handshake time after the connect, per connection, in µs. */
  handshakeLatency?: LatencyHistogram;
  /** With `udp`: what the datagrams went through. */
  udp?: UdpCounts;
  /**
   * With `banner`: connections opened (the warm-up's included), by the
   * backend whose banner they read (see `backendOf`), most first.
   */
  backends?: Record<string, number>;
  /** Loads merged into this one, one per thread (`mergeLoadReports`). */
  threads?: number;
  /** Connection errors (refused, reset, early close, timeout, other). */
  errors: number;
  /** Echoes that differed from what was sent. */
  mismatches: number;
  /**
   * Errors and mismatches by cause. Each ended its connection, which was
   * replaced by a new one: the load goes on.
   */
  errorsByCause: Record<ErrorCause, number>;
  /** The first few distinct error messages. */
  errorSamples: string[];
}

/**
 * Why a load connection failed: the server refused it, its TLS
 * certificate was not accepted, it reset the connection, closed it before
 * the echo was complete, sent nothing for `timeout`, echoed something
 * else, or anything else.
 */
export type ErrorCause =
  | "refused"
  | "tls"
  | "reset"
  | "closed"
  | "timeout"
  | "mismatch"
  | "other";

/** The causes, in the order reports list them. */
export const ERROR_CAUSES: readonly ErrorCause[] = [
  "refused",
  "tls",
  "reset",
  "closed",
  "timeout",
  "mismatch",
  "other",
];

const PATTERN_LENGTH = 1_048_573; // prime: message offsets never line up with it
const MAX_ERROR_SAMPLES = 5;
const DEFAULT_DURATION_MS = 5_000;
const DEFAULT_STREAM_WINDOW = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
/** After a refused or timed-out connect, the first pause before the next. */
const RECONNECT_BACKOFF_MS = 10;
const MAX_RECONNECT_BACKOFF_MS = 1_000;
/**
 * A connection slot gives up after this many failures in a row during
 * which the whole load verified nothing: the server is gone, not faulty.
 */
const MAX_FUTILE_FAILURES = 5;

/**
 * A random pattern all messages are cut from, long enough that a message
 * at any offset below `PATTERN_LENGTH` never wraps. Connection `k` starts
 * at its own offset, so crossed connections show up as mismatches.
 */
function makePattern(size: number): Uint8Array {
  const pattern = new Uint8Array(PATTERN_LENGTH + size);
  for (let i = 0; i < pattern.length; i += 65_536) {
    crypto.getRandomValues(
      pattern.subarray(i, Math.min(i + 65_536, pattern.length)),
    );
  }
  return pattern;
}

class MismatchError extends Error {}

/** The server closed the connection before the whole echo came back. */
class ClosedEarlyError extends Error {}

function causeOf(error: unknown): ErrorCause {
  if (error instanceof MismatchError) return "mismatch";
  if (error instanceof ClosedEarlyError) return "closed";
  const kind = connectionErrorKind(error);
  if (kind === "certificate") return "tls";
  if (kind === "host-not-found" || kind === undefined) return "other";
  return kind;
}

function ignore(): void {}

/**
 * Runs a load against an echo server and reports what it measured.
 * An error ends its connection, is counted by cause, and a new connection
 * takes its place (after a refused or timed-out connect, with a pause that
 * doubles up to 1 s), so a faulty server is measured, not just detected.
 * A slot stops replacing after 5 failures in a row while the whole load
 * verified nothing (a server that is gone). The function itself only
 * rejects for invalid options.
 *
 * @param options Target, mode, shape and length of the load.
 * @returns Throughput, latency percentiles and error counts.
 *
 * @example
 * ```ts
 * import { runLoad } from "./load_generator.ts";
 * const report = await runLoad({ endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 }, connections: 50, duration: 3_000 });
 * report.perSecond; // round trips per second
 * ```
 */
// One function on purpose: set-up, the run and the report share the
// connections, the progress and the warm-up state; the per-connection loops
// are functions of their own below.
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const {
    endpoint,
    mode = "ping-pong",
    connections = 1,
    size = 64,
    count = Infinity,
    window = DEFAULT_STREAM_WINDOW,
    warmup = 0,
  } = options;
  const duration = options.duration ??
    (Number.isFinite(count) ? Infinity : DEFAULT_DURATION_MS);
  if (!(connections >= 1 && size >= 1)) {
    throw new RangeError("connections and size must be at least 1");
  }
  if (
    options.udp && (endpoint.transport !== "tcp" || size < MIN_UDP_LOAD_SIZE)
  ) {
    throw new RangeError(
      `UDP load needs a host and port, and datagrams of at least ${MIN_UDP_LOAD_SIZE} bytes`,
    );
  }
  if (options.udp && options.banner) {
    throw new RangeError("A UDP load does not read banners");
  }
  const progress = options.progress ??
    {
      completed: 0,
      bytesVerified: 0,
      errors: 0,
      latency: new LatencyHistogram(),
    };
  const errorSamples: string[] = [];
  let mismatches = 0;
  const errorsByCause = Object.fromEntries(
    ERROR_CAUSES.map((cause) => [cause, 0]),
  ) as Record<ErrorCause, number>;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // Round trips started during the warm-up are neither counted nor timed.
  const warmupMs = Math.max(0, warmup);
  progress.warmingUp = warmupMs > 0;
  const measuring = () => !progress.warmingUp;
  let started = performance.now();
  const warmupEnd = progress.warmingUp
    ? setTimeout(() => {
      progress.warmingUp = false;
      started = performance.now();
    }, warmupMs)
    : undefined;
  const deadline = Number.isFinite(duration)
    ? setTimeout(() => stop.abort(), warmupMs + duration)
    : undefined;

  const pattern = makePattern(size);
  // Claims one unit of work; false once the count is used up or time is over.
  let claimed = 0;
  const claim = () =>
    !stop.signal.aborted && (!measuring() || claimed++ < count);
  const fail = (error: unknown) => {
    if (stop.signal.aborted) return; // errors caused by stopping do not count
    const cause = causeOf(error);
    errorsByCause[cause]++;
    if (cause === "mismatch") mismatches++;
    else progress.errors++;
    const message = error instanceof Error ? error.message : String(error);
    if (
      errorSamples.length < MAX_ERROR_SAMPLES && !errorSamples.includes(message)
    ) {
      errorSamples.push(message);
    }
  };

  using watchdog = new Watchdog(options.timeout ?? DEFAULT_TIMEOUT_MS);
  const timings = {
    connect: new LatencyHistogram(),
    ...(options.tls !== undefined && { handshake: new LatencyHistogram() }),
  };
  const context: LoopContext = {
    endpoint,
    watchdog,
    verified: { bytes: 0 },
    tls: options.tls,
    timings,
    messagesPerConnection: options.messagesPerConnection ?? Infinity,
    size,
    pattern,
    progress,
    claim,
    stop: stop.signal,
    interval: options.rate === undefined
      ? 0
      : (1000 * connections) / options.rate,
    window,
    sendProxy: options.sendProxy,
    ...(options.banner && {
      banner: {
        backends: new BackendTally(),
        timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
      },
    }),
    measuring,
  };
  const udp: UdpCounts = { sent: 0, lost: 0, duplicates: 0, reordered: 0 };
  const loop: Loop = options.udp
    ? (context, id) =>
      udpSlot({
        server: endpoint as { hostname: string; port: number },
        size,
        pattern,
        offset: startOffset(id),
        interval: context.interval,
        timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
        stop: context.stop,
        claim: context.claim,
        measuring: context.measuring,
        onEcho: (micros, bytes) => {
          progress.latency.record(micros);
          progress.intervalLatency?.record(micros);
          progress.completed++;
          progress.bytesVerified += bytes;
        },
        onAltered: () =>
          fail(new MismatchError("A datagram's echo differs from it")),
        counts: udp,
      }, id)
    : LOOPS[mode];
  await Promise.all(
    Array.from(
      { length: connections },
      (_, id) => keepLoading(loop, context, id, fail),
    ),
  );
  if (udp.lost > 0) {
    // Lost datagrams are the path's errors, counted as timeouts.
    progress.errors += udp.lost;
    errorsByCause.timeout += udp.lost;
  }
  const seconds = measuring() ? (performance.now() - started) / 1000 : 0;
  clearTimeout(warmupEnd);
  clearTimeout(deadline);
  options.signal?.removeEventListener("abort", onAbort);

  return {
    mode,
    connections,
    size,
    seconds,
    warmupSeconds: warmupMs / 1000,
    completed: progress.completed,
    perSecond: seconds > 0 ? progress.completed / seconds : 0,
    ...(options.rate !== undefined && { targetPerSecond: options.rate }),
    bytesVerified: progress.bytesVerified,
    megabytesPerSecond: seconds > 0
      ? progress.bytesVerified / seconds / 1e6
      : 0,
    latency: progress.latency,
    connectLatency: timings.connect,
    ...(timings.handshake !== undefined &&
      { handshakeLatency: timings.handshake }),
    ...(options.udp && { udp }),
    ...(context.banner !== undefined &&
      { backends: context.banner.backends.toJson() }),
    errors: progress.errors,
    mismatches,
    errorsByCause,
    errorSamples,
  };
}

/**
 * Runs connection `id`'s loop until the load ends, replacing the
 * connection whenever an error ends it.
 */
async function keepLoading(
  loop: Loop,
  context: LoopContext,
  id: number,
  fail: (error: unknown) => void,
): Promise<void> {
  let backoff = RECONNECT_BACKOFF_MS;
  let futile = 0;
  while (true) {
    const verifiedBefore = context.verified.bytes;
    try {
      await loop(context, id);
      return; // the load is over: time, count or abort
    } catch (error) {
      fail(error);
      if (context.stop.aborted) return;
      futile = context.verified.bytes === verifiedBefore ? futile + 1 : 0;
      if (futile >= MAX_FUTILE_FAILURES) return;
      // A server that refuses (or is not there) would make this spin.
      const cause = causeOf(error);
      if (cause === "refused" || cause === "timeout") {
        await delay(backoff, context.stop);
        backoff = Math.min(backoff * 2, MAX_RECONNECT_BACKOFF_MS);
      } else backoff = RECONNECT_BACKOFF_MS;
    }
  }
}

/**
 * Runs `work` on `conn` with the watchdog on it: a connection it ended
 * fails with a {@linkcode TimeoutError} instead of the closed socket's
 * error.
 */
async function watching(
  context: LoopContext,
  conn: Deno.Conn,
  work: (watched: Watched) => Promise<void>,
): Promise<void> {
  const watched = context.watchdog.watch(conn);
  try {
    await work(watched);
  } catch (error) {
    if (!watched.expired) throw error;
    throw new TimeoutError(
      `No progress for ${context.watchdog.timeoutMs} ms: connection ended`,
    );
  } finally {
    context.watchdog.forget(watched);
  }
}

interface LoopContext {
  endpoint: Endpoint;
  watchdog: Watchdog;
  tls: TlsClientOptions | undefined;
  /** Connect and handshake times of the connections opened, in µs. */
  timings: { connect: LatencyHistogram; handshake?: LatencyHistogram };
  /** Ping-pong: round trips per connection before a new one. */
  messagesPerConnection: number;
  /** Bytes verified, the warm-up included: whether the load gets anywhere. */
  verified: { bytes: number };
  size: number;
  pattern: Uint8Array;
  progress: LoadProgress;
  claim: () => boolean;
  stop: AbortSignal;
  /** Ping-pong with --rate: ms between one connection's requests; 0 = no pacing. */
  interval: number;
  window: number;
  sendProxy: ProxyVersion | undefined;
  /** With `banner`: connections per backend, and the wait for a banner. */
  banner?: { backends: BackendTally; timeout: number };
  /** False during the warm-up: what starts then is not reported. */
  measuring: () => boolean;
}

type Loop = (context: LoopContext, id: number) => Promise<void>;

const LOOPS: Record<LoadMode, Loop> = {
  "ping-pong": pingPongLoop,
  stream: streamLoop,
  connect: connectLoop,
};

/** Where connection `id`'s messages start in the pattern. */
function startOffset(id: number): number {
  return (Math.imul(id + 1, 0x9e3779b1) >>> 0) % PATTERN_LENGTH;
}

/**
 * Opens a load connection (PROXY header and TLS as asked) and, while
 * measuring, records how long the TCP connect and the TLS handshake took.
 */
async function open(context: LoopContext): Promise<Deno.Conn> {
  const { sendProxy, tls, timings } = context;
  const started = performance.now();
  let connectedAt = started;
  const conn = await connectWithTimeout(context.endpoint, {
    signal: context.stop,
    ...(tls !== undefined && { tls }),
    preamble: async (conn) => {
      connectedAt = performance.now();
      if (sendProxy !== undefined) await sendProxyHeader(conn, sendProxy);
    },
  });
  if (context.measuring()) {
    timings.connect.record((connectedAt - started) * 1000);
    timings.handshake?.record((performance.now() - connectedAt) * 1000);
  }
  const { banner } = context;
  if (banner !== undefined) {
    try {
      const backend = backendOf(
        await readBanner(conn, { timeout: banner.timeout }),
      );
      // The warm-up's connections count too: they carry the measured
      // load unless --messages-per-connection replaces them.
      banner.backends.add(backend);
    } catch (error) {
      closeQuietly(conn);
      throw error;
    }
  }
  return conn;
}

/** A buffer for the echo of a `size`-byte message (see {@linkcode roundTrip}). */
function echoBuffer(size: number): Uint8Array {
  return new Uint8Array(size + 1);
}

/**
 * Sends `message` and checks that exactly it comes back into `echo`, a
 * buffer from {@linkcode echoBuffer}.
 *
 * The read is posted before the write. Posted after it, the read would
 * often find a fast server's echo already there and complete at once, so
 * the connections served in one turn of the event loop would go round
 * again and again ahead of connections whose echo had been waiting longer:
 * a tail of hundreds of ms that is ours, not the server's (see "Fairness"
 * in experiments/README.md). Posted first, every read waits its turn.
 *
 * `echo` has one byte more than `message`. A read that fills less than its
 * buffer tells the runtime the socket is drained, so the next read, posted
 * before its data is there, waits without trying a system call that would
 * fail (a third fewer calls per round trip); and a server that sends more
 * than it was sent is caught here.
 */
async function roundTrip(
  conn: Deno.Conn,
  message: Uint8Array,
  echo: Uint8Array,
): Promise<void> {
  const firstRead = conn.read(echo);
  // A failed write rejects this read too; the write's error is the one
  // reported, and this rejection must not go unhandled.
  firstRead.catch(ignore);
  const written = await conn.write(message);
  if (written < message.length) {
    await writeAll(conn, message.subarray(written));
  }
  let received = await firstRead;
  while (received !== null && received < message.length) {
    const n: number | null = await conn.read(echo.subarray(received));
    received = n === null ? null : received + n;
  }
  if (received === null) {
    throw new ClosedEarlyError("Connection closed by the server mid-echo");
  }
  if (received > message.length) {
    throw new MismatchError(
      `Echo longer than the ${message.length}-byte message`,
    );
  }
  const at = firstDifference(echo.subarray(0, message.length), message);
  if (at !== -1) {
    throw new MismatchError(
      `Echo differs at byte ${at} of a ${message.length}-byte message`,
    );
  }
}

/** Where a ping-pong slot is in the pattern and in its schedule. */
interface PingPongState {
  offset: number;
  /** With a rate: when the next request is due. */
  due: number;
  /** The next round trip is claimed already (before its connection opened). */
  claimed: boolean;
}

async function pingPongLoop(context: LoopContext, id: number): Promise<void> {
  // With a rate, request k is due at first + k * interval; connections are
  // spread over one interval (golden-ratio steps) so they do not fire in
  // lockstep.
  const state: PingPongState = {
    offset: startOffset(id),
    due: performance.now() + context.interval * ((id * 0.6180339887) % 1),
    claimed: false,
  };
  let more = true;
  while (more) {
    using conn = await open(context);
    using _ = closeOnAbort(context.stop, conn);
    await watching(context, conn, async (watched) => {
      more = await pingPong(context, conn, watched, state);
    });
  }
}

/**
 * Round trips on `conn` until the load is over (false) or the connection
 * has had its `messagesPerConnection` (true: open another).
 */
async function pingPong(
  context: LoopContext,
  conn: Deno.Conn,
  watched: Watched,
  state: PingPongState,
): Promise<boolean> {
  const { size, pattern, progress, interval } = context;
  const echo = echoBuffer(size);
  let { offset, due } = state;
  for (let trip = 0; trip < context.messagesPerConnection; trip++) {
    if (state.claimed) state.claimed = false;
    else if (!context.claim()) return false;
    if (interval > 0) {
      const wait = due - performance.now();
      if (wait > 1) await delay(wait, context.stop);
      if (context.stop.aborted) return false;
    }
    const sent = interval > 0 ? due : performance.now();
    const measured = context.measuring();
    await roundTrip(conn, pattern.subarray(offset, offset + size), echo);
    const now = performance.now();
    watched.last = now;
    context.verified.bytes += size;
    if (measured) {
      const micros = (now - sent) * 1000;
      progress.latency.record(micros);
      progress.intervalLatency?.record(micros);
      progress.completed++;
      progress.bytesVerified += size;
    }
    offset = (offset + size) % PATTERN_LENGTH;
    due += interval;
    state.offset = offset;
    state.due = due;
  }
  // A new connection only if there is a round trip for it.
  if (!context.claim()) return false;
  state.claimed = true;
  return true;
}

async function connectLoop(context: LoopContext, id: number): Promise<void> {
  const { size, pattern, progress } = context;
  const echo = echoBuffer(size);
  let offset = startOffset(id);
  while (context.claim()) {
    const started = performance.now();
    const measured = context.measuring();
    {
      using conn = await open(context);
      using _ = closeOnAbort(context.stop, conn);
      await watching(
        context,
        conn,
        () => roundTrip(conn, pattern.subarray(offset, offset + size), echo),
      );
    }
    context.verified.bytes += size;
    if (measured) {
      const micros = (performance.now() - started) * 1000;
      progress.latency.record(micros);
      progress.intervalLatency?.record(micros);
      progress.completed++;
      progress.bytesVerified += size;
    }
    offset = (offset + size) % PATTERN_LENGTH;
  }
}

async function streamLoop(context: LoopContext, id: number): Promise<void> {
  const { size, pattern, progress, window } = context;
  using conn = await open(context);
  using _ = closeOnAbort(context.stop, conn);
  const unverified = new UnverifiedBytes();
  let wakeWriter: (() => void) | undefined;
  let progressMade = ignore;
  let offset = startOffset(id);

  const write = async () => {
    while (context.claim()) {
      while (unverified.size + size > window && !context.stop.aborted) {
        await new Promise<void>((resolve) => wakeWriter = resolve);
      }
      if (context.stop.aborted) return;
      const chunk = pattern.subarray(offset, offset + size);
      unverified.push(chunk);
      await writeAll(conn, chunk);
      offset = (offset + size) % PATTERN_LENGTH;
    }
    // Count reached: half-close, so the server's FIN ends the reader.
    await conn.closeWrite();
  };
  const read = async () => {
    const buffer = new Uint8Array(Math.max(65_536, size));
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const mismatch = unverified.verify(buffer.subarray(0, n));
      if (mismatch !== -1) {
        throw new MismatchError(`Echo differs at stream byte ${mismatch}`);
      }
      progressMade();
      context.verified.bytes += n;
      if (context.measuring()) {
        progress.bytesVerified += n;
        progress.completed = Math.floor(progress.bytesVerified / size);
      }
      wakeWriter?.();
      wakeWriter = undefined;
    }
    if (unverified.size > 0) {
      throw new ClosedEarlyError("Connection closed by the server mid-stream");
    }
  };
  const stopWaiting = () => wakeWriter?.();
  context.stop.addEventListener("abort", stopWaiting, { once: true });
  try {
    await watching(context, conn, async (watched) => {
      progressMade = () => watched.last = performance.now();
      await Promise.all([write(), read()]);
    });
  } finally {
    context.stop.removeEventListener("abort", stopWaiting);
  }
}
