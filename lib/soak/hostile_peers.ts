/**
 * The misbehaving clients of a soak run: each kind loops until the signal
 * aborts, with a fixed number of connections, so the load is bounded in
 * count and in time. None of them verifies anything; the probe does.
 *
 * @module
 */

import net from "node:net";
import { closeQuietly, delay, type Endpoint } from "../net/mod.ts";

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

function connectTo(options: PeerOptions): Promise<Deno.TcpConn> {
  const { hostname, port } = options.endpoint;
  return Deno.connect({ hostname, port, signal: options.signal });
}

/** Runs `count` copies of `loop` until the signal aborts; counts connections. */
async function run(
  options: PeerOptions,
  loop: (tally: PeerTally) => Promise<void>,
): Promise<PeerTally> {
  const { pace = 20, signal } = options;
  const tally = { connections: 0 };
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
  return run(options, (tally) =>
    new Promise<void>((resolve) => {
      const socket = net.connect({ host: hostname, port }, () => {
        tally.connections++;
        socket.resetAndDestroy();
      });
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    }));
}

/**
 * Sends 1 MiB chunks and never reads: the server's echo backs up against
 * it, and it keeps its connection until the end.
 */
export function nonReaders(options: PeerOptions): Promise<PeerTally> {
  const chunk = new Uint8Array(1024 * 1024);
  return run(options, async (tally) => {
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
  return run(options, async (tally) => {
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
 * Connects and sends nothing, like a TLS client that never says hello;
 * when the server closes it (a handshake deadline), connects again.
 */
export function silentClients(options: PeerOptions): Promise<PeerTally> {
  return run(options, async (tally) => {
    const conn = await connectTo(options);
    tally.connections++;
    await holdOpen(conn, options.signal);
  });
}

/** Sends random bytes and closes: garbage for a TLS port, noise for echo. */
export function garbageSenders(options: PeerOptions): Promise<PeerTally> {
  const garbage = new Uint8Array(512);
  return run(options, async (tally) => {
    using conn = await connectTo(options);
    tally.connections++;
    await conn.write(crypto.getRandomValues(garbage));
  });
}

/** Connects, sends a few bytes, closes without reading: churn. */
export function churn(options: PeerOptions): Promise<PeerTally> {
  const hello = new TextEncoder().encode("hello\n");
  return run(options, async (tally) => {
    using conn = await connectTo(options);
    tally.connections++;
    await conn.write(hello);
  });
}
