/**
 * `echo-client ping`'s command line: flags, defaults and help text.
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
  CLIENT_TLS_FLAGS,
  type ClientTlsArgs,
  parseClientTlsFlags,
} from "./client_tls_flags.ts";
import { positiveDuration, positiveInteger } from "./flag_values.ts";
import { MIN_PROBE_SIZE } from "../ping/mod.ts";
import { parseSize } from "../log/mod.ts";

/** `echo-client ping --help`. */
export const PING_HELP =
  `echo-client ping: round-trip times to an echo server, like ping

Usage: echo-client ping [options]

Options:
  --host HOST          Server address; HOST:PORT and [::1]:PORT work too
                       (default: ${DEFAULT_HOST})
  --port PORT          Server port (default: ${DEFAULT_PORT})
  --unix PATH          Probe a Unix domain socket instead
  --udp                Probe over UDP: reports loss, duplicates, reordering
  --tls                Probe over TLS (--ca FILE, --servername NAME, --alpn
                       LIST as for echo-client)
  --reconnect          TCP/TLS: a new connection per probe; connect time is
                       reported apart from the echo's round trip
  --banner             Read the server's banner line (echo-server --banner;
                       UDP: --udp-banner) and count answers per backend:
                       with --reconnect, how a load balancer spreads them
  -c, --count N        Stop after N probes (default: until Ctrl-C)
  -i, --interval DURATION  Between probe starts (default: 1s)
  -s, --size SIZE      Probe payload, at least ${MIN_PROBE_SIZE} B (default: 64)
  --timeout DURATION   Longest wait per probe (default: 1s)
  --json               One JSON summary (with every probe) on stdout
  -h, --help           Show this help

One line per probe ("seq=3 bytes=64 time=0.182 ms"), then a summary; Ctrl-C
prints the summary too. Exit codes: 0 every probe came back intact, 1 some
were lost or altered, 2 usage, 9 TLS certificate not accepted.
`;

/** Everything `echo-client ping` needs. */
export interface PingArgs {
  /** Where to probe. */
  endpoint: Endpoint;
  /** Probe over UDP. */
  udp: boolean;
  /** TLS settings as typed; undefined for plain TCP. */
  tls: ClientTlsArgs | undefined;
  /** A new connection per probe. */
  reconnect: boolean;
  /** Read the banner and count answers per backend. */
  banner: boolean;
  /** Probes to send. */
  count: number;
  /** Between probe starts, in ms. */
  interval: number;
  /** Probe payload, in bytes. */
  size: number;
  /** Per-probe wait, in ms. */
  timeout: number;
  /** JSON summary instead of text. */
  json: boolean;
}

/** What the ping command line asks for. */
export type PingCommand = ParsedCommand<"ping", PingArgs>;

/**
 * Parses the arguments after `echo-client ping`.
 *
 * @param args The arguments after `ping`.
 * @returns Help, or the validated settings.
 * @throws {UsageError} Naming the flag and value that are wrong.
 *
 * @example
 * ```ts
 * import { parsePingArgs } from "./ping_flags.ts";
 * parsePingArgs(["--udp", "-c", "5"]);
 * ```
 */
export function parsePingArgs(args: string[]): PingCommand {
  const { values, positionals } = parseFlags(args, {
    ...ENDPOINT_FLAGS,
    ...CLIENT_TLS_FLAGS,
    udp: { type: "boolean" },
    reconnect: { type: "boolean" },
    banner: { type: "boolean" },
    count: { type: "string", short: "c" },
    interval: { type: "string", short: "i" },
    size: { type: "string", short: "s" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    ...HELP_FLAG,
  });
  if (values.help) return { kind: "help" };
  rejectExtraArguments(positionals);
  const text = (name: string) => values[name] as string | undefined;
  const endpoint = parseEndpointFlags(values);
  const udp = values.udp === true;
  const tls = parseClientTlsFlags(values);
  if (udp && (tls !== undefined || endpoint.transport !== "tcp")) {
    throw new UsageError(
      "--udp: needs a host and port, and no --tls: see --help",
    );
  }
  if (udp && values.reconnect === true) {
    throw new UsageError("--reconnect: UDP has no connection: see --help");
  }
  return {
    kind: "ping",
    args: {
      endpoint,
      udp,
      tls,
      reconnect: values.reconnect === true,
      banner: values.banner === true,
      count: text("count") === undefined
        ? Infinity
        : parseFlagValue("count", text("count") ?? "", positiveInteger),
      interval: parseFlagValue(
        "interval",
        text("interval") ?? "1s",
        positiveDuration,
      ),
      size: parseFlagValue(
        "size",
        text("size") ?? "64",
        (value) => probeSize(value, udp),
      ),
      timeout: parseFlagValue(
        "timeout",
        text("timeout") ?? "1s",
        positiveDuration,
      ),
      json: values.json === true,
    },
  };
}

function probeSize(text: string, udp: boolean): number {
  const size = parseSize(text);
  const max = udp ? MAX_UDP_PAYLOAD : 16 * 1024 * 1024;
  if (size < MIN_PROBE_SIZE || size > max) {
    throw new RangeError(
      `Invalid size "${text}": expected ${MIN_PROBE_SIZE} B to ${max} B`,
    );
  }
  return size;
}
