/**
 * A soak run: a mix of hostile peers against a plain echo port, a TLS
 * echo port and the plain server's admin endpoint for a fixed time, while
 * probes measure whether well-behaved clients are still served: one per
 * echo port, one through a trusted proxy, one on `/healthz`.
 *
 * @module
 */

import { delay, type Endpoint, type TlsClientOptions } from "../net/mod.ts";
import {
  churn,
  fakeProxySources,
  garbageSenders,
  nonReaders,
  type PeerTally,
  pendingHeaders,
  resetStorm,
  silentClients,
  slowTricklers,
  tricklingRequests,
} from "./hostile_peers.ts";
import { type ProbeTally, runHealthProbe, runProbe } from "./probe.ts";

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
  /**
   * Loops of untrusted peers forging a PROXY header on the plain port;
   * each must be refused without an echo.
   */
  fakeProxySources: number;
  /**
   * Connections from the trusted proxy address that send `PROXY ` and
   * stall, on the plain port. Keep it below the server's
   * `--max-pending-headers`, or the proxied probe is refused too.
   */
  pendingHeaders: number;
  /** Silent clients on the admin port. */
  idleAdmin: number;
  /** Clients sending their request one byte a second, on the admin port. */
  tricklingAdmin: number;
}

/** The mix `deno task soak` runs by default. */
export const DEFAULT_SOAK_MIX: SoakMix = {
  resetStorm: 8,
  nonReaders: 200,
  slowTricklers: 200,
  silentTls: 300,
  garbage: 4,
  churn: 8,
  fakeProxySources: 8,
  // Well under the server's default of 256 pending headers.
  pendingHeaders: 100,
  // Several times the admin endpoint's 64 connection slots.
  idleAdmin: 300,
  tricklingAdmin: 10,
};

/** Options for {@linkcode runSoak}. */
export interface SoakOptions {
  /** The plain echo port. */
  tcp: Extract<Endpoint, { transport: "tcp" }>;
  /** The TLS echo port, and how to trust its certificate. */
  tls: { endpoint: Extract<Endpoint, { transport: "tcp" }> } & {
    client: TlsClientOptions;
  };
  /**
   * The plain server's admin endpoint: idle and trickling admin clients
   * run against it, and the health probe asks it for `/healthz`.
   * @default {undefined: those kinds and the health probe do not run}
   */
  admin?: Extract<Endpoint, { transport: "tcp" }>;
  /**
   * A local address the plain server trusts as a PROXY sender (its
   * `--proxy-from`), e.g. 127.0.0.2: pending headers and the proxied probe
   * connect from it. Everything else connects from the default address,
   * which the server must not trust.
   * @default {undefined: that kind and the proxied probe do not run}
   */
  trustedProxy?: string;
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
  /** The plain port's probe through the trusted proxy; if it ran. */
  proxiedProbe: ProbeTally | undefined;
  /** The TLS port's probe. */
  tlsProbe: ProbeTally;
  /** The admin endpoint's `/healthz` probe; if it ran. */
  healthProbe: ProbeTally | undefined;
  /** Connections each kind of peer opened. */
  peers: Record<keyof SoakMix, number>;
  /** Fake PROXY sources that got any byte back; must be 0. */
  fakeProxyEchoed: number;
  /** How long it ran, in ms. */
  durationMs: number;
}

/**
 * Runs the hostile mix and the probes for `options.duration`.
 *
 * @param options Ports, duration, mix.
 * @returns What the probes and peers saw.
 *
 * @example
 * ```ts
 * import { runSoak } from "./soak.ts";
 * const at = (port: number) => ({
 *   transport: "tcp" as const, hostname: "127.0.0.1", port,
 * });
 * const tally = await runSoak({
 *   tcp: at(7007),
 *   tls: { endpoint: at(7008), client: { caCerts: [] } },
 *   duration: 1_000,
 *   mix: {
 *     resetStorm: 1, nonReaders: 1, slowTricklers: 1, silentTls: 1,
 *     garbage: 1, churn: 1, fakeProxySources: 1, pendingHeaders: 0,
 *     idleAdmin: 0, tricklingAdmin: 0,
 *   },
 * });
 * // tally.tcpProbe.failed, tally.fakeProxyEchoed: 0 when all is well
 * ```
 */
// One function on purpose: it starts every kind of peer and probe against
// one stop signal and gathers their tallies; each kind is its own function
// in hostile_peers.ts and probe.ts.
export async function runSoak(options: SoakOptions): Promise<SoakTally> {
  const mix = options.mix ?? DEFAULT_SOAK_MIX;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.duration);
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const signal = stop.signal;
  const { tcp, admin, trustedProxy } = options;
  const tls = options.tls.endpoint;
  const started = performance.now();
  const rampUp = options.rampUp ?? Math.min(2_000, options.duration / 10);
  const afterRampUp = async <T>(probe: () => Promise<T>): Promise<T> => {
    await delay(rampUp, signal);
    return await probe();
  };

  const fakes = fakeProxySources({
    endpoint: tcp,
    count: mix.fakeProxySources,
    signal,
  });
  const kinds: Record<keyof SoakMix, Promise<PeerTally>[]> = {
    resetStorm: [resetStorm({ endpoint: tcp, count: mix.resetStorm, signal })],
    nonReaders: [nonReaders({ endpoint: tcp, count: mix.nonReaders, signal })],
    slowTricklers: [
      slowTricklers({ endpoint: tcp, count: mix.slowTricklers, signal }),
    ],
    silentTls: [silentClients({ endpoint: tls, count: mix.silentTls, signal })],
    garbage: [
      garbageSenders({ endpoint: tls, count: mix.garbage, signal }),
      garbageSenders({ endpoint: tcp, count: mix.garbage, signal }),
    ],
    churn: [churn({ endpoint: tcp, count: mix.churn, signal })],
    fakeProxySources: [fakes],
    pendingHeaders: trustedProxy === undefined ? [] : [
      pendingHeaders({
        endpoint: tcp,
        localAddress: trustedProxy,
        count: mix.pendingHeaders,
        signal,
      }),
    ],
    idleAdmin: admin === undefined
      ? []
      : [silentClients({ endpoint: admin, count: mix.idleAdmin, signal })],
    tricklingAdmin: admin === undefined ? [] : [
      tricklingRequests({ endpoint: admin, count: mix.tricklingAdmin, signal }),
    ],
  };
  const peerCounts = Promise.all(
    Object.entries(kinds).map(async ([kind, runs]) => {
      const tallies = await Promise.all(runs);
      const opened = tallies.reduce((sum, each) => sum + each.connections, 0);
      return [kind, opened] as const;
    }),
  );

  const [tcpProbe, proxiedProbe, tlsProbe, healthProbe, counts, fake] =
    await Promise.all([
      afterRampUp(() => runProbe({ endpoint: tcp, signal })),
      trustedProxy === undefined
        ? undefined
        : afterRampUp(() =>
          runProbe({ endpoint: tcp, viaProxy: trustedProxy, signal })
        ),
      afterRampUp(() =>
        runProbe({ endpoint: tls, tls: options.tls.client, signal })
      ),
      admin === undefined
        ? undefined
        : afterRampUp(() => runHealthProbe({ endpoint: admin, signal })),
      peerCounts,
      fakes,
    ]);
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  return {
    tcpProbe,
    proxiedProbe,
    tlsProbe,
    healthProbe,
    peers: Object.fromEntries(counts) as Record<keyof SoakMix, number>,
    fakeProxyEchoed: fake.echoed,
    durationMs: performance.now() - started,
  };
}
