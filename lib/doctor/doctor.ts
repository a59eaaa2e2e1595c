/**
 * `echo-client doctor`: what the path between us and an echo endpoint
 * does to a connection. A bounded battery of checks, each with its own
 * time limit, each answering in the words a network engineer uses.
 *
 * @module
 */

import {
  DatagramReceiver,
  echoMessage,
  openUdpSocket,
  sendDatagram,
} from "../client/mod.ts";
import {
  closeQuietly,
  connectionErrorKind,
  connectWithTimeout,
  delay,
  EchoMismatchError,
  type Endpoint,
  firstDifference,
  formatAddress,
  TimeoutError,
  type TlsClientOptions,
  writeAll,
} from "../net/mod.ts";
import { formatBytes, formatDuration } from "../log/mod.ts";
import { tlsDetails } from "./_tls_details.ts";

/** Options for {@linkcode runDoctor}. */
export interface DoctorOptions {
  /** The echo endpoint, through whatever sits in between. */
  endpoint: Endpoint;
  /** Speak TLS, with these settings. */
  tls?: TlsClientOptions;
  /** Also send a burst of UDP datagrams to the same host and port. */
  udp?: boolean;
  /**
   * The longest idle period to try, in ms: the idle check takes this
   * long.
   * @default {60000}
   */
  idleMax?: number;
  /** Connections at once in the concurrency check. @default {100} */
  concurrency?: number;
  /** The limit for each connect and each echo, in ms. @default {10000} */
  timeout?: number;
  /** Called as each check ends, for live output. */
  onCheck?: (check: CheckResult) => void;
}

/** One check's outcome. */
export interface CheckResult {
  /** What was checked, e.g. `connect`, `integrity 64 KiB`, `half-close`. */
  name: string;
  /** Whether the path passed it. */
  ok: boolean;
  /** What was found, in words. */
  finding: string;
  /** The check's time limit, in ms. */
  limitMs: number;
  /** Figures for scripts (times in ms, counts). */
  details?: Record<string, number | string | null>;
}

/** What the doctor found. */
export interface DoctorReport {
  /** The endpoint, as printed. */
  target: string;
  /** Every check, in the order run. */
  checks: CheckResult[];
  /** Whether every check passed. */
  ok: boolean;
}

const DEFAULT_IDLE_MAX_MS = 60_000;
const DEFAULT_CONCURRENCY = 100;
const DEFAULT_TIMEOUT_MS = 10_000;
const INTEGRITY_SIZES = [1, 64 * 1024, 16 * 1024 * 1024];
const HALF_CLOSE_SIZE = 64 * 1024;
/** Idle periods tried, in s; the longest is `idleMax`. */
const IDLE_STEPS_S = [1, 2, 4, 8, 15, 30, 60, 120, 300];
const UDP_BURST = 200;
const UDP_SIZE = 64;

/**
 * Runs the checks against `options.endpoint`, in order: connect (and the
 * TLS handshake), integrity of 1 B, 64 KiB and 16 MiB, half-close, idle
 * survival, concurrency, and with `udp` a datagram burst. A failed
 * connect skips the rest.
 *
 * @param options The endpoint and the limits.
 * @returns Every check's outcome.
 *
 * @example
 * ```ts
 * import { runDoctor } from "./doctor.ts";
 * const report = await runDoctor({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
 *   idleMax: 2_000,
 * });
 * report.ok; // true when the path passed every check
 * ```
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const add = (check: CheckResult) => {
    checks.push(check);
    options.onCheck?.(check);
  };
  const connected = await checkConnect(options);
  connected.forEach(add);
  if (connected.every((check) => check.ok)) {
    for (const size of INTEGRITY_SIZES) {
      add(await checkIntegrity(options, size));
    }
    add(await checkHalfClose(options));
    add(await checkIdle(options));
    add(await checkConcurrency(options));
  }
  if (options.udp) add(await checkUdpBurst(options));
  return {
    target: `${options.tls === undefined ? "" : "tls "}${
      formatAddress(options.endpoint)
    }`,
    checks,
    ok: checks.every((check) => check.ok),
  };
}

function limitOf(options: DoctorOptions): number {
  return options.timeout ?? DEFAULT_TIMEOUT_MS;
}

/** Connects, timing the TCP connect and the TLS handshake apart. */
async function timedConnect(
  options: DoctorOptions,
): Promise<{ conn: Deno.Conn; connectMs: number; handshakeMs?: number }> {
  const started = performance.now();
  let connectedAt = started;
  const conn = await connectWithTimeout(options.endpoint, {
    timeout: limitOf(options),
    ...(options.tls !== undefined && { tls: options.tls }),
    preamble: () => {
      connectedAt = performance.now();
      return Promise.resolve();
    },
  });
  const done = performance.now();
  return {
    conn,
    connectMs: connectedAt - started,
    ...(options.tls !== undefined && { handshakeMs: done - connectedAt }),
  };
}

async function checkConnect(options: DoctorOptions): Promise<CheckResult[]> {
  const limitMs = limitOf(options);
  try {
    const { conn, connectMs, handshakeMs } = await timedConnect(options);
    using _conn = conn;
    const results: CheckResult[] = [{
      name: "connect",
      ok: true,
      finding: `connected in ${formatDuration(connectMs)}`,
      limitMs,
      details: { connect_ms: round(connectMs) },
    }];
    if (handshakeMs !== undefined && options.tls !== undefined) {
      results.push(
        await checkTls(options, options.tls, conn as Deno.TlsConn, handshakeMs),
      );
    }
    return results;
  } catch (error) {
    return [{
      name: "connect",
      ok: false,
      finding: `${connectFailure(error)}; the other checks need a connection`,
      limitMs,
    }];
  }
}

/** Below this many days left, the expiry is worth a warning. */
const EXPIRY_WARNING_DAYS = 14;

/**
 * The TLS check: handshake time and ALPN from our connection; the
 * version and the certificate's expiry, which Deno's API does not give,
 * from one `node:tls` connection.
 */
async function checkTls(
  options: DoctorOptions,
  tls: TlsClientOptions,
  conn: Deno.TlsConn,
  handshakeMs: number,
): Promise<CheckResult> {
  const limitMs = limitOf(options);
  const alpn = (await conn.handshake()).alpnProtocol;
  const { endpoint } = options;
  const details = endpoint.transport === "tcp"
    ? await tlsDetails(endpoint.hostname, endpoint.port, tls, limitMs)
    : undefined;
  const daysLeft = details === undefined
    ? undefined
    : (details.validTo.getTime() - Date.now()) / 86_400_000;
  const expiry = details === undefined || daysLeft === undefined
    ? "version and expiry not readable"
    : `${details.protocol}, certificate valid until ${
      details.validTo.toISOString().slice(0, 10)
    } (${daysLeft.toFixed(1)} days${
      daysLeft < EXPIRY_WARNING_DAYS ? ": renew it soon" : ""
    })`;
  return {
    name: "tls",
    ok: true,
    finding: `handshake in ${
      formatDuration(handshakeMs)
    }, certificate verified, ${expiry}, ALPN ${alpn ?? "none"}`,
    limitMs,
    details: {
      handshake_ms: round(handshakeMs),
      alpn,
      protocol: details?.protocol ?? null,
      valid_to: details?.validTo.toISOString() ?? null,
    },
  };
}

/** Why a connection could not be made, in words. */
function connectFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  switch (connectionErrorKind(error)) {
    case "timeout":
      return "no answer to the connect in time (a firewall dropping it, or nothing routes there)";
    case "refused":
      return "refused: nothing listens there, or a firewall rejects it";
    case "certificate":
      return `certificate not accepted: ${message}`;
    case "host-not-found":
      return "host not found (DNS)";
    default:
      return message;
  }
}

async function checkIntegrity(
  options: DoctorOptions,
  size: number,
): Promise<CheckResult> {
  const limitMs = limitOf(options);
  const name = `integrity ${formatBytes(size)}`;
  const message = randomBytes(size);
  try {
    const { conn } = await timedConnect(options);
    using _conn = conn;
    const started = performance.now();
    await verifiedEcho(conn, message, limitMs);
    const ms = performance.now() - started;
    return {
      name,
      ok: true,
      finding: `every byte came back unchanged in ${formatDuration(ms)}`,
      limitMs,
      details: { bytes: size, ms: round(ms) },
    };
  } catch (error) {
    return { name, ok: false, finding: echoFailure(error, size), limitMs };
  }
}

async function checkHalfClose(options: DoctorOptions): Promise<CheckResult> {
  const limitMs = limitOf(options);
  const message = randomBytes(HALF_CLOSE_SIZE);
  try {
    const { conn } = await timedConnect(options);
    using _conn = conn;
    await echoMessage(conn, message, { timeout: limitMs, halfClose: true });
    return {
      name: "half-close",
      ok: true,
      finding: `after our FIN, all ${
        formatBytes(HALF_CLOSE_SIZE)
      } came back, then the server's FIN`,
      limitMs,
    };
  } catch (error) {
    return {
      name: "half-close",
      ok: false,
      finding: `the path does not carry a half-close: ${
        echoFailure(error, HALF_CLOSE_SIZE)
      }`,
      limitMs,
    };
  }
}

/**
 * Sends `message` while reading its echo (a large one would otherwise
 * stall both sides once the buffers fill), checking every byte, within
 * `limitMs` in all.
 *
 * @throws {EchoMismatchError} If the echo differs or ends early.
 * @throws {TimeoutError} If it takes longer than `limitMs`.
 */
async function verifiedEcho(
  conn: Deno.Conn,
  message: Uint8Array,
  limitMs: number,
): Promise<void> {
  let expired = false;
  const deadline = setTimeout(() => {
    expired = true;
    conn.close();
  }, limitMs);
  const writing = writeAll(conn, message).catch(() => {});
  const echo = new Uint8Array(Math.min(message.length, 1 << 20));
  let received = 0;
  try {
    while (received < message.length) {
      const n = await conn.read(
        echo.subarray(0, Math.min(echo.length, message.length - received)),
      );
      if (n === null) {
        throw new EchoMismatchError(
          "Connection ended early",
          message.subarray(0, received),
        );
      }
      const at = firstDifference(
        echo.subarray(0, n),
        message.subarray(received, received + n),
      );
      if (at !== -1) {
        throw new EchoMismatchError(
          `Echo differs at byte ${received + at}`,
          new Uint8Array(message.length),
        );
      }
      received += n;
    }
  } catch (error) {
    if (expired) throw new TimeoutError("No complete echo in time");
    throw error;
  } finally {
    clearTimeout(deadline);
    // Nobody reads any more: a write still going would wait forever.
    if (received < message.length) closeQuietly(conn);
    await writing;
  }
}

/** What went wrong with an echo, in words. */
function echoFailure(error: unknown, size: number): string {
  if (error instanceof TimeoutError) return "no complete echo in time";
  if (error instanceof EchoMismatchError) {
    return error.received.length < size
      ? `the connection ended after ${error.received.length} of ${size} bytes came back`
      : "the echo came back altered";
  }
  if (connectionErrorKind(error) === "reset") return "the connection was reset";
  return error instanceof Error ? error.message : String(error);
}

/**
 * Several connections idle side by side, each for a different time up to
 * `idleMax`, then echo one byte. A connection the path closes while idle
 * says when (its read ends); one the path forgets silently fails its echo.
 */
async function checkIdle(options: DoctorOptions): Promise<CheckResult> {
  const idleMax = options.idleMax ?? DEFAULT_IDLE_MAX_MS;
  const limitMs = idleMax + limitOf(options);
  const periods = [
    ...IDLE_STEPS_S.map((s) => s * 1000).filter((ms) => ms < idleMax),
    idleMax,
  ];
  const outcomes = await Promise.all(
    periods.map((ms) => idleFor(options, ms)),
  );
  const survived = outcomes.filter((o) => o.survived).map((o) => o.ms);
  const closedAt = outcomes.flatMap((o) => o.closedAfterMs ?? []);
  const failed = outcomes.filter((o) => !o.survived).map((o) => o.ms);
  const longest = survived.length === 0 ? 0 : Math.max(...survived);
  if (failed.length === 0) {
    return {
      name: "idle",
      ok: true,
      finding: `a connection survived ${
        formatDuration(longest)
      } idle (the longest tried)`,
      limitMs,
      details: { survived_ms: longest },
    };
  }
  const closed = closedAt.length === 0 ? undefined : Math.min(...closedAt);
  const shortestFailed = Math.min(...failed);
  return {
    name: "idle",
    ok: false,
    finding: closed !== undefined
      ? `closed by the path after about ${formatDuration(closed)} idle`
      : `an idle connection is forgotten silently between ${
        formatDuration(longest)
      } and ${
        formatDuration(shortestFailed)
      } (no FIN or reset: its echo never came)`,
    limitMs,
    details: {
      survived_ms: longest,
      closed_after_ms: closed === undefined ? null : round(closed),
      failed_after_ms: shortestFailed,
    },
  };
}

async function idleFor(
  options: DoctorOptions,
  ms: number,
): Promise<{ ms: number; survived: boolean; closedAfterMs?: number }> {
  let conn: Deno.Conn;
  try {
    conn = (await timedConnect(options)).conn;
  } catch {
    return { ms, survived: false };
  }
  using _conn = conn;
  const opened = performance.now();
  // A read posted now ends early only if the path closes the connection.
  const first = new Uint8Array(1);
  const ended = conn.read(first).then(
    (n) => ({ n, at: performance.now() }),
    () => ({ n: null, at: performance.now() }),
  );
  const early = await raceTimer(ended, ms);
  if (early !== undefined) {
    return { ms, survived: false, closedAfterMs: early.at - opened };
  }
  try {
    await conn.write(Uint8Array.of(42));
    const echoed = await raceTimer(ended, limitOf(options));
    return { ms, survived: echoed?.n === 1 && first[0] === 42 };
  } catch {
    return { ms, survived: false };
  }
}

/** `promise`'s value, or undefined if `ms` pass first (no timer is left). */
async function raceTimer<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  const cancel = new AbortController();
  try {
    return await Promise.race([
      promise,
      delay(ms, cancel.signal).then(() => undefined),
    ]);
  } finally {
    cancel.abort();
  }
}

async function checkConcurrency(options: DoctorOptions): Promise<CheckResult> {
  const count = options.concurrency ?? DEFAULT_CONCURRENCY;
  const limitMs = limitOf(options);
  const message = randomBytes(64);
  const outcomes = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const { conn, connectMs } = await timedConnect(options);
      using _conn = conn;
      await echoMessage(conn, message, { timeout: limitMs });
      return connectMs;
    }),
  );
  const times = outcomes.flatMap((o) =>
    o.status === "fulfilled" ? [o.value] : []
  ).sort((a, b) => a - b);
  const failures = outcomes.flatMap((o) =>
    o.status === "rejected" ? [o.reason] : []
  );
  const p99 = times[Math.max(0, Math.ceil(times.length * 0.99) - 1)] ?? 0;
  return {
    name: "concurrency",
    ok: failures.length === 0,
    finding: failures.length === 0
      ? `${count} connections at once, each echo verified; connect p99 ${
        formatDuration(p99)
      }`
      : `${times.length} of ${count} connections at once worked; the first failure: ${
        connectFailure(failures[0])
      }`,
    limitMs,
    details: {
      connections: count,
      ok: times.length,
      connect_p99_ms: round(p99),
    },
  };
}

/** A burst of datagrams from one socket: loss, duplicates, reordering. */
async function checkUdpBurst(options: DoctorOptions): Promise<CheckResult> {
  const limitMs = limitOf(options);
  const { endpoint } = options;
  if (endpoint.transport !== "tcp") {
    return {
      name: "udp",
      ok: false,
      finding: "UDP needs a host and port",
      limitMs,
    };
  }
  const server = { hostname: endpoint.hostname, port: endpoint.port };
  const socket = openUdpSocket(server);
  const receiver = new DatagramReceiver(socket, server);
  const session = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  const seen = new Set<number>();
  let duplicates = 0;
  let reordered = 0;
  let highest = -1;
  try {
    for (let seq = 0; seq < UDP_BURST; seq++) {
      const datagram = new Uint8Array(UDP_SIZE);
      const view = new DataView(datagram.buffer);
      view.setUint32(0, session);
      view.setUint32(4, seq);
      await sendDatagram(socket, datagram, server);
    }
    // Echoes keep coming until a quiet second or the limit.
    const deadline = performance.now() + limitMs;
    while (performance.now() < deadline) {
      const reply = await receiver.next(
        Math.min(1_000, deadline - performance.now()),
      );
      if (reply === undefined) break;
      if (reply.length !== UDP_SIZE) continue;
      const view = new DataView(reply.buffer, reply.byteOffset);
      if (view.getUint32(0) !== session) continue;
      const seq = view.getUint32(4);
      if (seq >= UDP_BURST) continue; // not one of ours
      if (seen.has(seq)) duplicates++;
      else {
        seen.add(seq);
        if (seq < highest) reordered++;
        highest = Math.max(highest, seq);
      }
    }
  } finally {
    receiver.cancel();
    socket.close();
  }
  const lost = UDP_BURST - seen.size;
  return {
    name: "udp",
    ok: lost === 0 && duplicates === 0,
    finding: `${UDP_BURST} datagrams sent at once: ${seen.size} came back (${
      (100 * lost / UDP_BURST).toFixed(1)
    } % lost), ${duplicates} duplicates, ${reordered} reordered`,
    limitMs,
    details: { sent: UDP_BURST, received: seen.size, duplicates, reordered },
  };
}

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65_536, size)));
  }
  return bytes;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
