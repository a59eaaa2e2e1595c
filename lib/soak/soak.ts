/**
 * A soak run: a mix of hostile peers against a plain echo port and a TLS
 * echo port for a fixed time, while one probe per port measures whether
 * well-behaved clients are still served.
 *
 * @module
 */

import { delay, type Endpoint, type TlsClientOptions } from "../net/mod.ts";
import {
  churn,
  garbageSenders,
  nonReaders,
  type PeerTally,
  resetStorm,
  silentClients,
  slowTricklers,
} from "./hostile_peers.ts";
import { type ProbeOptions, type ProbeTally, runProbe } from "./probe.ts";

/** How many peers of each kind run at once. */
export interface SoakMix {
  /** Loops of connect-and-reset against the plain port. */
  resetStorm: number;
  /** Connections that send and never read, on the plain port. */
  nonReaders: number;
  /** One-byte-a-second clients on the plain port. */
  slowTricklers: number;
  /** Silent clients on the TLS port. */
  silentTls: number;
  /** Loops sending random bytes to the TLS port, and to the plain port. */
  garbage: number;
  /** Loops of connect, send, close on the plain port. */
  churn: number;
}

/** The mix `deno task soak` runs by default. */
export const DEFAULT_SOAK_MIX: SoakMix = {
  resetStorm: 8,
  nonReaders: 200,
  slowTricklers: 200,
  silentTls: 300,
  garbage: 4,
  churn: 8,
};

/** Options for {@linkcode runSoak}. */
export interface SoakOptions {
  /** The plain echo port. */
  tcp: Extract<Endpoint, { transport: "tcp" }>;
  /** The TLS echo port, and how to trust its certificate. */
  tls: { endpoint: Extract<Endpoint, { transport: "tcp" }> } & {
    client: TlsClientOptions;
  };
  /** How long to run, in ms. */
  duration: number;
  /** How many peers of each kind. @default {DEFAULT_SOAK_MIX} */
  mix?: SoakMix;
  /**
   * The probes start this long after the hostile peers, so that they
   * measure the server under the steady mix, not the soak's own start.
   * @default {2000, or a tenth of a shorter duration}
   */
  rampUp?: number;
  /** Aborting it ends the run early. */
  signal?: AbortSignal;
}

/** What a soak run saw. */
export interface SoakTally {
  /** The plain port's probe. */
  tcpProbe: ProbeTally;
  /** The TLS port's probe. */
  tlsProbe: ProbeTally;
  /** Connections each kind of peer opened. */
  peers: Record<keyof SoakMix, number>;
  /** How long it ran, in ms. */
  durationMs: number;
}

/**
 * Runs the hostile mix and the probes for `options.duration`.
 *
 * @param options Ports, duration, mix.
 * @returns What the probes and peers saw.
 */
export async function runSoak(options: SoakOptions): Promise<SoakTally> {
  const mix = options.mix ?? DEFAULT_SOAK_MIX;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.duration);
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const signal = stop.signal;
  const tcp = options.tcp;
  const tls = options.tls.endpoint;
  const started = performance.now();
  const tally = (kinds: Promise<PeerTally>[]) =>
    Promise.all(kinds).then((all) =>
      all.reduce((sum, kind) => sum + kind.connections, 0)
    );
  const rampUp = options.rampUp ?? Math.min(2_000, options.duration / 10);
  const probe = async (probeOptions: Omit<ProbeOptions, "signal">) => {
    await delay(rampUp, signal);
    return await runProbe({ ...probeOptions, signal });
  };
  const [tcpProbe, tlsProbe, ...peers] = await Promise.all([
    probe({ endpoint: tcp }),
    probe({ endpoint: tls, tls: options.tls.client }),
    tally([resetStorm({ endpoint: tcp, count: mix.resetStorm, signal })]),
    tally([nonReaders({ endpoint: tcp, count: mix.nonReaders, signal })]),
    tally([slowTricklers({ endpoint: tcp, count: mix.slowTricklers, signal })]),
    tally([silentClients({ endpoint: tls, count: mix.silentTls, signal })]),
    tally([
      garbageSenders({ endpoint: tls, count: mix.garbage, signal }),
      garbageSenders({ endpoint: tcp, count: mix.garbage, signal }),
    ]),
    tally([churn({ endpoint: tcp, count: mix.churn, signal })]),
  ]);
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  const [resets, readers, tricklers, silent, garbage, churned] = peers;
  return {
    tcpProbe,
    tlsProbe,
    peers: {
      resetStorm: resets ?? 0,
      nonReaders: readers ?? 0,
      slowTricklers: tricklers ?? 0,
      silentTls: silent ?? 0,
      garbage: garbage ?? 0,
      churn: churned ?? 0,
    },
    durationMs: performance.now() - started,
  };
}
