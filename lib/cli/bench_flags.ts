/**
 * `echo-client bench`'s command line: flags, defaults and help text.
 *
 * @module
 */

import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  type Endpoint,
  MAX_UDP_PAYLOAD,
} from "../net/mod.ts";
import { UsageError } from "./usage_error.ts";
import type { ParsedCommand } from "./command.ts";
import {
  ENDPOINT_FLAGS,
  HELP_FLAG,
  parseEndpointFlags,
  parseFlags,
  parseFlagValue,
  rejectExtraArguments,
} from "./flags.ts";
import {
  durationOrZero,
  parseSendProxy,
  positiveDuration,
  positiveInteger,
} from "./flag_values.ts";
import type { ProxyVersion } from "../proxy/mod.ts";
import type { LoadMode } from "../bench/mod.ts";
import { parseSize } from "../log/mod.ts";
import {
  CLIENT_TLS_FLAGS,
  type ClientTlsArgs,
  parseClientTlsFlags,
} from "./client_tls_flags.ts";

/** `echo-client bench`'s help text. */
export const BENCH_HELP =
  `echo-client bench: load an echo server and measure it, verifying every byte

Usage: echo-client bench [options]

Options:
  --host HOST            Server address (default: ${DEFAULT_HOST})
  --port PORT            Server port, 1-65535 (default: ${DEFAULT_PORT});
                         --host takes HOST:PORT too, e.g. [::1]:7007
  --unix PATH            Connect to a Unix domain socket instead
  --mode MODE            ping-pong, stream or connect (default: ping-pong)
  --connections N        Concurrent connections (default: 1)
  --size SIZE            Message size; stream: write size (default: 64)
  --duration DURATION    How long to run (default: 5s, or until --count)
  --count N              Stop after N round trips / messages / connections
  --warmup DURATION      Run this long first and leave it out of the report:
                         connection setup and our own start-up are not the
                         server's latency (default: 0.5s, or 0s with --count)
  --rate N               ping-pong: N round trips per second in total; latency
                         counts from when each was due (default: flat out)
  --udp                  Datagram ping-pong: each connection is a slot with
                         one datagram in flight; lost, duplicated and
                         reordered datagrams are counted (--timeout: 1s)
  --tls                  Speak TLS on every connection (--ca FILE to trust a
                         certificate, --servername NAME, --alpn LIST)
  --messages-per-connection N  ping-pong: a new connection every N round
                         trips; connect and TLS handshake times are
                         reported apart (default: one connection each)
  --timeout DURATION     End a connection that makes no progress this long
                         (no echo, no connect): counted as a timeout, and
                         replaced (default: 10s)
  --send-proxy v1|v2     Send a PROXY protocol header first on every
                         connection (TCP only)
  --banner               Read the server's banner line (echo-server
                         --banner) on every connection and count
                         connections per backend: how a load balancer
                         spreads them (TCP, TLS or Unix)
  --threads N            Run the load in N threads (Workers), the connections
                         split between them, so that several cores load;
                         latencies merged exactly (default: 1)
  --interval DURATION    A line per interval on stdout while it runs (rate,
                         MB/s, the interval's own p50/p99, errors); with
                         --json, one JSON object per line, the summary last
  --json                 One JSON object on stdout instead of a table
  --quiet                No live progress on stderr
  -h, --help             Show this help

Latency is per round trip (connect mode: connect + echo + close).
A connection that fails (refused, reset, closed early, timeout, mismatch)
is counted by cause and replaced: the load goes on until its end.
Exit codes: 0 clean run, 1 any mismatch or connection error, 2 usage.
`;

/** The settings `echo-client bench` runs with. */
export interface BenchArgs {
  /** Where to listen or connect: host and port, or a Unix socket. */
  endpoint: Endpoint;
  /** Load shape. */
  mode: LoadMode;
  /** Send a PROXY header first on every connection. */
  sendProxy?: ProxyVersion;
  /** Read the banner on every connection; count connections per backend. */
  banner: boolean;
  /** Concurrent connections. */
  connections: number;
  /** Message size in bytes. */
  size: number;
  /** Run time in ms, if given. */
  duration?: number;
  /** Round trips / messages / connections, if given. */
  count?: number;
  /** Unmeasured run time before the measured one, in ms. */
  warmup: number;
  /** Round trips per second in total, if given. */
  rate?: number;
  /** How long a connection may make no progress, in ms. */
  timeout: number;
  /** TLS flags, if `--tls`; the `--ca` file is read when the load starts. */
  tls: ClientTlsArgs | undefined;
  /** Ping-pong: round trips per connection, if given. */
  messagesPerConnection?: number;
  /** Load over UDP. */
  udp: boolean;
  /** Threads (Workers) the load runs in. */
  threads: number;
  /** Report every this many ms while running, if given. */
  interval?: number;
  /** JSON output. */
  json: boolean;
  /** No live progress. */
  quiet: boolean;
}

/** What the bench command line asks for. */
export type BenchCommand = ParsedCommand<"bench", BenchArgs>;

/**
 * Parses the arguments after `echo-client bench`.
 *
 * @param args The arguments after `bench`.
 * @returns Help, or the validated settings.
 * @throws {UsageError} Naming the flag and value that are wrong.
 *
 * @example
 * ```ts
 * import { parseBenchArgs } from "./bench_flags.ts";
 * parseBenchArgs(["--connections", "50", "--duration", "3s"]);
 * ```
 */
export function parseBenchArgs(args: string[]): BenchCommand {
  const { values, positionals } = parseFlags(args, {
    ...ENDPOINT_FLAGS,
    mode: { type: "string" },
    connections: { type: "string" },
    size: { type: "string" },
    duration: { type: "string" },
    count: { type: "string" },
    warmup: { type: "string" },
    rate: { type: "string" },
    timeout: { type: "string" },
    "messages-per-connection": { type: "string" },
    udp: { type: "boolean" },
    threads: { type: "string" },
    interval: { type: "string" },
    ...CLIENT_TLS_FLAGS,
    json: { type: "boolean" },
    "send-proxy": { type: "string" },
    banner: { type: "boolean" },
    quiet: { type: "boolean" },
    ...HELP_FLAG,
  });
  if (values.help) return { kind: "help" };
  rejectExtraArguments(positionals);
  const text = (name: string) => values[name] as string | undefined;
  const optional = <T>(name: string, parse: (text: string) => T) => {
    const value = text(name);
    return value === undefined
      ? {}
      : { [name]: parseFlagValue(name, value, parse) };
  };
  const mode = parseFlagValue("mode", text("mode") ?? "ping-pong", parseMode);
  const rate = optional("rate", positiveNumber);
  if (mode !== "ping-pong" && "rate" in rate) {
    throw new UsageError(
      `--rate: only applies to --mode ping-pong: see --help`,
    );
  }
  const endpoint = parseEndpointFlags(values);
  const sendProxy = parseSendProxy(text("send-proxy"), endpoint);
  const tls = parseClientTlsFlags(values);
  if (tls !== undefined && endpoint.transport !== "tcp") {
    throw new UsageError(
      "--tls: needs a host and port, not --unix: see --help",
    );
  }
  const udp = values.udp === true;
  if (
    udp && (mode !== "ping-pong" || tls !== undefined ||
      endpoint.transport !== "tcp" || sendProxy !== undefined ||
      text("messages-per-connection") !== undefined || values.banner === true)
  ) {
    throw new UsageError(
      "--udp: ping-pong to a host and port, without --tls, --mode, --send-proxy, --messages-per-connection or --banner: see --help",
    );
  }
  if (text("threads") !== undefined && text("interval") !== undefined) {
    throw new UsageError(
      "--interval: not with --threads (each thread reports once): see --help",
    );
  }
  const perConnection = text("messages-per-connection");
  if (perConnection !== undefined && mode !== "ping-pong") {
    throw new UsageError(
      "--messages-per-connection: only applies to --mode ping-pong: see --help",
    );
  }
  return {
    kind: "bench",
    args: {
      endpoint,
      mode,
      ...(sendProxy !== undefined && { sendProxy }),
      banner: values.banner === true,
      connections: parseFlagValue(
        "connections",
        text("connections") ?? "1",
        positiveInteger,
      ),
      size: parseFlagValue(
        "size",
        text("size") ?? "64",
        udp ? datagramSize : positiveSize,
      ),
      ...optional("duration", positiveDuration),
      ...optional("count", positiveInteger),
      warmup: parseFlagValue(
        "warmup",
        text("warmup") ?? (text("count") === undefined ? "0.5s" : "0s"),
        durationOrZero,
      ),
      ...rate,
      ...optional("interval", positiveDuration),
      timeout: parseFlagValue(
        "timeout",
        text("timeout") ?? (udp ? "1s" : "10s"),
        positiveDuration,
      ),
      udp,
      threads: parseFlagValue(
        "threads",
        text("threads") ?? "1",
        positiveInteger,
      ),
      tls,
      ...(perConnection !== undefined && {
        messagesPerConnection: parseFlagValue(
          "messages-per-connection",
          perConnection,
          positiveInteger,
        ),
      }),
      json: values.json === true,
      quiet: values.quiet === true,
    },
  };
}

/** With --udp: a datagram, header (12 B) included, that UDP can carry. */
function datagramSize(text: string): number {
  const size = positiveSize(text);
  if (size < 12 || size > MAX_UDP_PAYLOAD) {
    throw new RangeError(
      `Invalid datagram size "${text}": expected 12 to ${MAX_UDP_PAYLOAD} bytes`,
    );
  }
  return size;
}

function parseMode(text: string): LoadMode {
  if (text === "ping-pong" || text === "stream" || text === "connect") {
    return text;
  }
  throw new TypeError(
    `Invalid mode "${text}": expected ping-pong, stream or connect`,
  );
}

function positiveNumber(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(value > 0)) {
    throw new RangeError(`Invalid rate "${text}": expected a number above 0`);
  }
  return value;
}

function positiveSize(text: string): number {
  const size = parseSize(text);
  if (size < 1 || size > 64 * 1024 * 1024) {
    throw new RangeError(`Invalid size "${text}": expected 1 B to 64 MiB`);
  }
  return size;
}
