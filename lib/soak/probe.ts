/**
 * The soak's probes: well-behaved clients that connect anew at a steady
 * pace. The echo probe sends a random message (directly, or as a trusted
 * proxy's client behind a PROXY header) and verifies every byte; the
 * health probe asks the admin endpoint for `/healthz`. Their success rates
 * and times are what "the server stays available" means in numbers.
 *
 * @module
 */

import net from "node:net";
import { echoMessage } from "../client/mod.ts";
import {
  connectWithTimeout,
  delay,
  EchoMismatchError,
  type Endpoint,
  firstDifference,
  TimeoutError,
  type TlsClientOptions,
  writeAll,
} from "../net/mod.ts";

/** Options for {@linkcode runProbe}. */
export interface ProbeOptions {
  /** The server. */
  endpoint: Endpoint;
  /** Speak TLS. Not with `viaProxy`. */
  tls?: TlsClientOptions;
  /**
   * Connect as a trusted proxy would: from this local address (one the
   * server's `--proxy-from` names), starting with a PROXY v1 header for a
   * made-up client. Not with `tls`, and only for a TCP endpoint.
   * @default {undefined: a direct client}
   */
  viaProxy?: string;
  /** Time between probe starts, in ms. @default {100} */
  interval?: number;
  /** Bytes per probe. @default {1024} */
  size?: number;
  /** A probe that takes longer than this fails, in ms. @default {5000} */
  timeout?: number;
  /** Aborting it ends the probing after the probe under way. */
  signal: AbortSignal;
}

/** What the probes saw. */
export interface ProbeTally {
  /** Probes whose echo (or health answer) came back intact. */
  ok: number;
  /** Probes that failed: refused, reset, timed out or altered. */
  failed: number;
  /** Time of each successful probe, connect included, in ms. */
  times: number[];
  /** Bytes sent by probes that did not come back intact. */
  bytesLost: number;
  /** The first few distinct failure messages. */
  errors: string[];
}

/** How many distinct failure messages a tally keeps. */
const MAX_ERRORS = 5;

function newTally(): ProbeTally {
  return { ok: 0, failed: 0, times: [], bytesLost: 0, errors: [] };
}

function noteError(tally: ProbeTally, text: string): void {
  if (tally.errors.length < MAX_ERRORS && !tally.errors.includes(text)) {
    tally.errors.push(text);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Probes until `options.signal` aborts.
 *
 * @param options Target, pace, size and deadline.
 * @returns The tally.
 * @throws {TypeError} If `viaProxy` is given with `tls` or a non-TCP
 * endpoint.
 *
 * @example
 * ```ts
 * import { runProbe } from "./probe.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 1_000);
 * const tally = await runProbe({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
 *   signal: stop.signal,
 * });
 * // tally.ok: probes echoed intact; tally.failed: the others
 * ```
 */
export async function runProbe(options: ProbeOptions): Promise<ProbeTally> {
  const { interval = 100, size = 1024, timeout = 5_000, signal } = options;
  const { endpoint, viaProxy } = options;
  if (
    viaProxy !== undefined &&
    (options.tls !== undefined || endpoint.transport !== "tcp")
  ) {
    throw new TypeError(
      `Invalid probe "viaProxy": expected a TCP endpoint without TLS`,
    );
  }
  const tally = newTally();
  const message = new Uint8Array(size);
  while (!signal.aborted) {
    const started = performance.now();
    crypto.getRandomValues(message);
    let sent = false;
    const connected = () => {
      sent = true;
    };
    try {
      if (viaProxy !== undefined && endpoint.transport === "tcp") {
        const echo = await echoViaProxy(endpoint, message, {
          localAddress: viaProxy,
          timeout,
          connected,
        });
        checkEcho(message, echo);
      } else {
        using conn = await connectWithTimeout(endpoint, {
          timeout,
          ...(options.tls !== undefined && { tls: options.tls }),
        });
        connected();
        await echoMessage(conn, message, { timeout });
      }
      tally.ok++;
      tally.times.push(performance.now() - started);
    } catch (error) {
      tally.failed++;
      if (sent) {
        const received = error instanceof EchoMismatchError
          ? error.received
          : new Uint8Array();
        // Bytes that came back equal to what was sent are not lost.
        let intact = 0;
        while (
          intact < received.length && received[intact] === message[intact]
        ) {
          intact++;
        }
        tally.bytesLost += size - intact;
      }
      noteError(tally, `${sent ? "echo" : "connect"}: ${messageOf(error)}`);
    }
    await delay(Math.max(0, started + interval - performance.now()), signal);
  }
  return tally;
}

/** Throws {@linkcode EchoMismatchError} unless `echo` equals `message`. */
function checkEcho(message: Uint8Array, echo: Uint8Array): void {
  const at = firstDifference(message, echo);
  if (at === -1 && echo.length === message.length) return;
  throw new EchoMismatchError(
    at === -1 || at >= echo.length
      ? `Echo ended early: received ${echo.length} of ${message.length} bytes`
      : `Echo differs from what was sent at byte ${at}`,
    echo,
  );
}

/**
 * Sends a PROXY v1 header for a made-up client (192.0.2.0/24, reserved
 * for documentation) and `message` from `options.localAddress`, and
 * collects the echo: `message.length` bytes, or fewer if the server ends
 * first. Deno.connect cannot choose its local address; node:net can.
 * Settles only once the socket is closed, so no resource outlives it.
 */
function echoViaProxy(
  endpoint: Extract<Endpoint, { transport: "tcp" }>,
  message: Uint8Array,
  options: { localAddress: string; timeout: number; connected: () => void },
): Promise<Uint8Array> {
  const { hostname, port } = endpoint;
  const client = 1 + Math.floor(Math.random() * 254);
  const clientPort = 1024 + Math.floor(Math.random() * 64_512);
  const header = new TextEncoder().encode(
    `PROXY TCP4 192.0.2.${client} ${hostname} ${clientPort} ${port}\r\n`,
  );
  return new Promise((resolve, reject) => {
    const echo = new Uint8Array(message.length);
    let received = 0;
    let failure: unknown;
    const finish = (error?: unknown) => {
      failure ??= error;
      clearTimeout(timer);
      socket.destroy();
    };
    const socket = net.connect({
      host: hostname,
      port,
      localAddress: options.localAddress,
    }, () => {
      options.connected();
      socket.write(header);
      socket.write(message);
    });
    const timer = setTimeout(
      () =>
        finish(
          new TimeoutError(
            `No echo within ${options.timeout} ms: received ${received} of ${message.length} bytes`,
          ),
        ),
      options.timeout,
    );
    socket.on("data", (chunk: Uint8Array) => {
      const take = Math.min(chunk.length, echo.length - received);
      echo.set(chunk.subarray(0, take), received);
      received += take;
      if (received === echo.length) finish();
    });
    socket.on("end", () => finish());
    socket.on("error", (error) => finish(error));
    socket.on("close", () => {
      clearTimeout(timer);
      if (failure === undefined) resolve(echo.subarray(0, received));
      else if (failure instanceof TimeoutError) reject(failure);
      else {
        // A reset after part of the echo: keep what came back.
        reject(
          new EchoMismatchError(
            messageOf(failure),
            echo.slice(0, received),
          ),
        );
      }
    });
  });
}

/** Options for {@linkcode runHealthProbe}. */
export interface HealthProbeOptions {
  /** The admin endpoint. */
  endpoint: Extract<Endpoint, { transport: "tcp" }>;
  /** The path to ask for; it must answer 200. @default {"/healthz"} */
  path?: string;
  /** Time between probe starts, in ms. @default {100} */
  interval?: number;
  /**
   * A probe not answered this long after it started (connect included)
   * fails, in ms; short, as a load balancer's or kubelet's would be.
   * @default {1000}
   */
  timeout?: number;
  /** Aborting it ends the probing after the probe under way. */
  signal: AbortSignal;
}

/** The most of an answer a health probe reads: its status line is enough. */
const MAX_ANSWER = 1024;

/**
 * Asks the admin endpoint for `options.path` over a new connection, at a
 * steady pace, until `options.signal` aborts: a probe is ok when the
 * answer's status line is `HTTP/1.x 200`. A new connection each time, as
 * load balancers and kubelets probe, so a crowded accept queue shows.
 *
 * @param options Target, pace and deadline.
 * @returns The tally; `bytesLost` stays 0.
 *
 * @example
 * ```ts
 * import { runHealthProbe } from "./probe.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 1_000);
 * const tally = await runHealthProbe({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 9090 },
 *   signal: stop.signal,
 * });
 * // tally.ok: 200 answers in time; tally.failed: the others
 * ```
 */
export async function runHealthProbe(
  options: HealthProbeOptions,
): Promise<ProbeTally> {
  const { path = "/healthz", interval = 100, timeout = 1_000, signal } =
    options;
  const request = new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${options.endpoint.hostname}\r\n` +
      `Connection: close\r\n\r\n`,
  );
  const tally = newTally();
  while (!signal.aborted) {
    const started = performance.now();
    try {
      const status = await askOnce(options.endpoint, request, timeout);
      if (!/^HTTP\/1\.[01] 200 /.test(status)) {
        // Server-chosen bytes: quoted and escaped before they are shown.
        throw new Error(`Answered ${JSON.stringify(status.slice(0, 80))}`);
      }
      tally.ok++;
      tally.times.push(performance.now() - started);
    } catch (error) {
      tally.failed++;
      noteError(tally, `${path}: ${messageOf(error)}`);
    }
    await delay(Math.max(0, started + interval - performance.now()), signal);
  }
  return tally;
}

/**
 * Sends `request` on a new connection and returns the answer's status
 * line, all within `timeout` ms (an absolute deadline, not an idle one).
 */
async function askOnce(
  endpoint: Extract<Endpoint, { transport: "tcp" }>,
  request: Uint8Array,
  timeout: number,
): Promise<string> {
  const deadline = performance.now() + timeout;
  using conn = await connectWithTimeout(endpoint, { timeout });
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    conn.close();
  }, Math.max(0, deadline - performance.now()));
  const answer = new Uint8Array(MAX_ANSWER);
  let filled = 0;
  try {
    await writeAll(conn, request);
    while (filled < answer.length) {
      const n = await conn.read(answer.subarray(filled));
      if (n === null) break;
      filled += n;
      if (answer.subarray(0, filled).includes(0x0a)) break;
    }
  } catch (error) {
    if (expired) throw new TimeoutError(`No answer within ${timeout} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (filled === 0) throw new Error("Closed unanswered");
  const text = new TextDecoder().decode(answer.subarray(0, filled));
  return text.split("\r\n", 1)[0] ?? "";
}
