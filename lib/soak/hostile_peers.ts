/**
 * The misbehaving clients of a soak run: each kind loops until the signal
 * aborts, with a fixed number of connections, so the load is bounded in
 * count and in time. None of them verifies the echo; the probes do. The
 * one exception is {@linkcode fakeProxySources}: what they must not get
 * (any echo) only they can see, so they count it.
 *
 * @module
 */

import net from "node:net";
import {
  closeOnAbort,
  closeQuietly,
  delay,
  type Endpoint,
  writeAll,
} from "../net/mod.ts";

/** Where a kind of peer connects, and how many of them. */
export interface PeerOptions {
  /** The server. */
  endpoint: Extract<Endpoint, { transport: "tcp" }>;
  /** How many such peers run at once. */
  count: number;
  /** Aborting it ends the peers (and closes their connections). */
  signal: AbortSignal;
  /**
   * Least time between two connections of one peer, in ms: a steady
   * hostile load rather than a flood that only measures the CPU.
   * @default {20}
   */
  pace?: number;
}

/** What the peers of one kind did. */
export interface PeerTally {
  /** Connections opened. */
  connections: number;
}

/** Options for peers that pose as a trusted proxy. */
export interface TrustedPeerOptions extends PeerOptions {
  /**
   * The local address to connect from: one the server trusts as a PROXY
   * sender (`--proxy-from`), such as 127.0.0.2 on a loopback-only host.
   */
  localAddress: string;
}

/** What the {@linkcode fakeProxySources} did, and what they got. */
export interface FakeProxyTally extends PeerTally {
  /**
   * Connections that got any byte back: the server believed or echoed a
   * forged header. Must stay 0.
   */
  echoed: number;
}

/** How long a fake PROXY source waits for the server to close it, in ms. */
const FAKE_PROXY_WAIT_MS = 2_000;

function connectTo(options: PeerOptions): Promise<Deno.TcpConn> {
  const { hostname, port } = options.endpoint;
  return Deno.connect({ hostname, port, signal: options.signal });
}

/** Runs `count` copies of `loop` until the signal aborts; `loop` counts. */
async function run<Tally extends PeerTally>(
  options: PeerOptions,
  tally: Tally,
  loop: (tally: Tally) => Promise<void>,
): Promise<Tally> {
  const { pace = 20, signal } = options;
  await Promise.all(
    Array.from({ length: options.count }, async () => {
      while (!signal.aborted) {
        const started = performance.now();
        // A refused or reset connection is part of the game; go again.
        await loop(tally).catch(() => {});
        await delay(started + pace - performance.now(), signal);
      }
    }),
  );
  return tally;
}

/** Keeps `conn` open until `signal` aborts (or the server closes it). */
async function holdOpen(conn: Deno.Conn, signal: AbortSignal): Promise<void> {
  const close = () => closeQuietly(conn);
  signal.addEventListener("abort", close, { once: true });
  try {
    await conn.read(new Uint8Array(1)).catch(() => null);
  } finally {
    signal.removeEventListener("abort", close);
    closeQuietly(conn);
  }
}

/**
 * Connects and resets at once (SO_LINGER 0, then close), over and over: a
 * storm of connections that are dead before the server accepts them.
 */
export function resetStorm(options: PeerOptions): Promise<PeerTally> {
  const { hostname, port } = options.endpoint;
  return run(
    options,
    { connections: 0 },
    (tally) =>
      new Promise<void>((resolve) => {
        const socket = net.connect({ host: hostname, port }, () => {
          tally.connections++;
          socket.resetAndDestroy();
        });
        socket.on("close", () => resolve());
        socket.on("error", () => resolve());
      }),
  );
}

/**
 * Sends 1 MiB chunks and never reads: the server's echo backs up against
 * it, and it keeps its connection until the end.
 */
export function nonReaders(options: PeerOptions): Promise<PeerTally> {
  const chunk = new Uint8Array(1024 * 1024);
  return run(options, { connections: 0 }, async (tally) => {
    const conn = await connectTo(options);
    tally.connections++;
    const close = () => closeQuietly(conn);
    options.signal.addEventListener("abort", close, { once: true });
    try {
      while (!options.signal.aborted) await conn.write(chunk);
    } finally {
      options.signal.removeEventListener("abort", close);
      closeQuietly(conn);
    }
  });
}

/** Sends one byte a second and reads its echo: a trickle that never ends. */
export function slowTricklers(options: PeerOptions): Promise<PeerTally> {
  return run(options, { connections: 0 }, async (tally) => {
    using conn = await connectTo(options);
    tally.connections++;
    const byte = new Uint8Array(1);
    while (!options.signal.aborted) {
      await conn.write(byte);
      await conn.read(byte);
      await delay(1_000, options.signal);
    }
  });
}

/**
 * Connects and sends nothing, like a TLS client that never says hello or
 * an HTTP client that never sends its request; when the server closes it
 * (a handshake or header deadline, an eviction), connects again.
 */
export function silentClients(options: PeerOptions): Promise<PeerTally> {
  return run(options, { connections: 0 }, async (tally) => {
    const conn = await connectTo(options);
    tally.connections++;
    await holdOpen(conn, options.signal);
  });
}

/** Sends random bytes and closes: garbage for a TLS port, noise for echo. */
export function garbageSenders(options: PeerOptions): Promise<PeerTally> {
  const garbage = new Uint8Array(512);
  return run(options, { connections: 0 }, async (tally) => {
    using conn = await connectTo(options);
    tally.connections++;
    await conn.write(crypto.getRandomValues(garbage));
  });
}

/** Connects, sends a few bytes, closes without reading: churn. */
export function churn(options: PeerOptions): Promise<PeerTally> {
  const hello = new TextEncoder().encode("hello\n");
  return run(options, { connections: 0 }, async (tally) => {
    using conn = await connectTo(options);
    tally.connections++;
    await conn.write(hello);
  });
}

/**
 * Untrusted peers that forge a PROXY header: `PROXY TCP4 10.x.y.z ...`
 * with a random client address, then a line of data. The server must
 * refuse them (reason `untrusted-proxy`) without echoing a byte; each one
 * that got anything back within {@linkcode FAKE_PROXY_WAIT_MS} is counted
 * in `echoed`.
 *
 * @example
 * ```ts
 * import { fakeProxySources } from "./hostile_peers.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 1_000);
 * const { echoed } = await fakeProxySources({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
 *   count: 2,
 *   signal: stop.signal,
 * });
 * // echoed: 0 unless the server believed or echoed a forged header
 * ```
 */
export function fakeProxySources(
  options: PeerOptions,
): Promise<FakeProxyTally> {
  const { hostname, port } = options.endpoint;
  const encoder = new TextEncoder();
  const random = new Uint8Array(5);
  return run(options, { connections: 0, echoed: 0 }, async (tally) => {
    using conn = await connectTo(options);
    tally.connections++;
    const [a = 0, b = 0, c = 0, high = 0, low = 0] = crypto.getRandomValues(
      random,
    );
    const sourcePort = 1024 + ((high << 8 | low) % 64_512);
    const forged = `PROXY TCP4 10.${a}.${b}.${c} ${hostname} ${sourcePort} ` +
      `${port}\r\nforged client\n`;
    // Count an echo even if the write then fails: the reply is read while
    // writing, as a server may answer before the data is all in.
    const reply = firstReply(conn, options.signal);
    await writeAll(conn, encoder.encode(forged)).catch(() => {});
    if (await reply) tally.echoed++;
  });
}

/**
 * Whether `conn` receives a byte before it ends, fails, the signal aborts
 * or {@linkcode FAKE_PROXY_WAIT_MS} pass; closes `conn` in every case.
 */
async function firstReply(
  conn: Deno.Conn,
  signal: AbortSignal,
): Promise<boolean> {
  if (signal.aborted) return false;
  using _ = closeOnAbort(signal, conn);
  const timer = setTimeout(() => closeQuietly(conn), FAKE_PROXY_WAIT_MS);
  try {
    const n = await conn.read(new Uint8Array(1)).catch(() => null);
    return n !== null && n > 0;
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/**
 * Poses as a trusted proxy (connects from `options.localAddress`), sends
 * `PROXY ` and stalls: the server holds the connection as a pending header
 * (counted against `--max-pending-headers`) until its deadline closes it;
 * then it connects again.
 *
 * @example
 * ```ts
 * import { pendingHeaders } from "./hostile_peers.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 1_000);
 * await pendingHeaders({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
 *   localAddress: "127.0.0.2", // the server's --proxy-from
 *   count: 10,
 *   signal: stop.signal,
 * });
 * ```
 */
export function pendingHeaders(
  options: TrustedPeerOptions,
): Promise<PeerTally> {
  const { hostname, port } = options.endpoint;
  const { localAddress, signal } = options;
  return run(
    options,
    { connections: 0 },
    (tally) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(
          { host: hostname, port, localAddress },
          () => {
            tally.connections++;
            socket.write("PROXY ");
          },
        );
        const close = () => socket.destroy();
        signal.addEventListener("abort", close, { once: true });
        if (signal.aborted) close();
        // Reading (nothing is expected) is what makes the server's close
        // show as an end; without it a paused socket never sees one.
        socket.resume();
        socket.on("end", close);
        socket.on("error", close);
        socket.on("close", () => {
          signal.removeEventListener("abort", close);
          resolve();
        });
      }),
  );
}

/**
 * Sends an HTTP request head one byte a second, never finishing it in
 * time: a trickling client of the admin endpoint. When the server closes
 * it (its header deadline, or an eviction), connects again.
 *
 * @example
 * ```ts
 * import { tricklingRequests } from "./hostile_peers.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 3_000);
 * await tricklingRequests({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 9090 },
 *   count: 5,
 *   signal: stop.signal,
 * });
 * ```
 */
export function tricklingRequests(options: PeerOptions): Promise<PeerTally> {
  const request = new TextEncoder().encode(
    "GET /healthz HTTP/1.1\r\nHost: soak\r\nUser-Agent: trickler\r\n\r\n",
  );
  const { signal } = options;
  return run(options, { connections: 0 }, async (tally) => {
    using conn = await connectTo(options);
    tally.connections++;
    let ended = false;
    // The server's close (or, had the head come through, its answer) ends
    // the trickle; the read is settled before the connection is released.
    const reading = conn.read(new Uint8Array(1024)).catch(() => null).then(
      () => {
        ended = true;
      },
    );
    try {
      for (let i = 0; i < request.length && !ended && !signal.aborted; i++) {
        await writeAll(conn, request.subarray(i, i + 1));
        await delay(1_000, signal);
      }
    } finally {
      closeQuietly(conn);
      await reading;
    }
  });
}
