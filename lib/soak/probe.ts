/**
 * The soak's probe: a well-behaved client that connects anew at a steady
 * pace, echoes a random message, and verifies every byte. Its success rate
 * and times are what "the server stays available" means in numbers.
 *
 * @module
 */

import { echoMessage } from "../client/mod.ts";
import {
  connectWithTimeout,
  delay,
  EchoMismatchError,
  type Endpoint,
  type TlsClientOptions,
} from "../net/mod.ts";

/** Options for {@linkcode runProbe}. */
export interface ProbeOptions {
  /** The server. */
  endpoint: Endpoint;
  /** Speak TLS. */
  tls?: TlsClientOptions;
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
  /** Probes whose echo came back intact. */
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

/**
 * Probes until `options.signal` aborts.
 *
 * @param options Target, pace, size and deadline.
 * @returns The tally.
 */
export async function runProbe(options: ProbeOptions): Promise<ProbeTally> {
  const { interval = 100, size = 1024, timeout = 5_000, signal } = options;
  const tally: ProbeTally = {
    ok: 0,
    failed: 0,
    times: [],
    bytesLost: 0,
    errors: [],
  };
  const message = new Uint8Array(size);
  while (!signal.aborted) {
    const started = performance.now();
    crypto.getRandomValues(message);
    let sent = false;
    try {
      using conn = await connectWithTimeout(options.endpoint, {
        timeout,
        ...(options.tls !== undefined && { tls: options.tls }),
      });
      sent = true;
      await echoMessage(conn, message, { timeout });
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
      const text = `${sent ? "echo" : "connect"}: ${
        error instanceof Error ? error.message : String(error)
      }`;
      if (tally.errors.length < 5 && !tally.errors.includes(text)) {
        tally.errors.push(text);
      }
    }
    await delay(Math.max(0, started + interval - performance.now()), signal);
  }
  return tally;
}
