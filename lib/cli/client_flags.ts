/**
 * `echo-client`'s command line: flags, defaults and help text.
 *
 * @module
 */

import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_TIMEOUT_MS,
  type Endpoint,
} from "../net/mod.ts";
import { UsageError } from "./usage_error.ts";
import {
  ENDPOINT_FLAGS,
  HELP_FLAG,
  OUTPUT_FLAGS,
  parseEndpointFlags,
  parseFlags,
  parseFlagValue,
  VERSION_FLAG,
} from "./flags.ts";
import {
  CLIENT_TLS_FLAGS,
  type ClientTlsArgs,
  parseClientTlsFlags,
} from "./client_tls_flags.ts";
import type { ParsedCommand } from "./command.ts";
import { DEFAULT_WINDOW } from "../client/mod.ts";
import { parseSize } from "../log/mod.ts";
import { parseSendProxy, positiveDuration } from "./flag_values.ts";
import type { ProxyVersion } from "../proxy/mod.ts";

/** How long `--udp` waits for each attempt's echo, by default. */
export const DEFAULT_UDP_TIMEOUT_MS = 1_000;

/** `echo-client`'s help text, printed by `--help`. */
export const CLIENT_HELP =
  `echo-client: send data to a TCP or UDP echo server and verify the echo

Usage:
  echo-client [options] MESSAGE...   send the words (joined by spaces, plus a
                                     newline), print the echo
  echo-client [options] < FILE       stream stdin, print the verified echo
  echo-client [options]              on a terminal: send each line you type
  echo-client bench [options]        load the server (echo-client bench --help)
  echo-client ping [options]         round-trip times (echo-client ping --help)
  echo-client doctor [options]       what the path does to a connection
                                     (echo-client doctor --help)
  echo-client merge [FILE...]        bench --json results of many machines as
                                     one report (echo-client merge --help)

The subcommands bench, ping, doctor and merge come first, before any option: after an
option, "ping" is a message to echo.

Options:
  --host HOST          Server address (default: ${DEFAULT_HOST})
  --port PORT          Server port, 1-65535 (default: ${DEFAULT_PORT}).
                       --host takes HOST:PORT too, e.g. [::1]:7007
  --unix PATH          Connect to a Unix domain socket instead
  --timeout DURATION   Limit for connecting and for each wait for echo
                       (default: ${
    DEFAULT_TIMEOUT_MS / 1000
  }s; with --udp, per attempt: ${DEFAULT_UDP_TIMEOUT_MS / 1000}s)
  --tls                Speak TLS; the server's certificate must verify
  --ca FILE            With --tls: also trust this CA or self-signed
                       certificate (PEM), e.g. from echo-server --tls-cert-out
  --servername NAME    With --tls: the name to send (SNI) and verify
  --alpn LIST          With --tls: protocols to offer, e.g. h2,http/1.1
  --send-proxy v1|v2   Send a PROXY protocol header first, as HAProxy
                       would, to test a server behind one (TCP only)
  --udp                Send MESSAGE (or stdin) as one UDP datagram
  --retries N          With --udp: resend this many times when the echo
                       is lost (default: 2)
  --banner             Read the server's banner line first (echo-server
                       --banner; with --udp, --udp-banner) and print it on
                       stderr as "banner: LINE"
  -n, --no-newline     Send MESSAGE without the trailing newline
  --window SIZE        Most bytes in flight unverified when streaming
                       (default: ${DEFAULT_WINDOW / 1024 / 1024}MiB)
  --quiet              No progress or hints on stderr
  --verbose            Stack traces on unexpected errors
  -h, --help           Show this help
  -V, --version        Show the version

Durations take a unit: 500ms, 0.05s, 5s, 2m. Sizes: 512, 64KiB, 1MiB.
Exit codes: 0 echo matched, 1 echo differed or ended early, 2 usage,
3 unknown host, 6 connection refused, 7 timeout, 8 other network error,
9 TLS certificate not accepted.
`;

/** Everything `echo-client` needs to run, after parsing. */
export interface ClientArgs {
  /** Where to listen or connect: host and port, or a Unix socket. */
  endpoint: Endpoint;
  /** Speak TLS: what to trust, which name to verify, ALPN. */
  tls: ClientTlsArgs | undefined;
  /** Send a PROXY header first. */
  sendProxy?: ProxyVersion;
  /** Send the message as one UDP datagram instead of over TCP. */
  udp: boolean;
  /** Read the server's banner line first and print it on stderr. */
  banner: boolean;
  /** UDP: further attempts when an echo is lost. */
  retries: number;
  /** Connect and per-wait limit (UDP: per attempt), in ms. */
  timeout: number;
  /** The message words; empty means stream stdin. */
  message: string[];
  /** Append a newline to the message, as `echo` does. */
  newline: boolean;
  /** Streaming window, in bytes. */
  window: number;
  /** No progress or hints on stderr. */
  quiet: boolean;
  /** Print stack traces for unexpected errors. */
  verbose: boolean;
}

/** What the command line asks for. */
export type ClientCommand = ParsedCommand<"echo", ClientArgs>;

/**
 * Parses `echo-client`'s arguments.
 *
 * @param args The arguments after the program name.
 * @returns Help, version, or the validated settings to run with.
 * @throws {UsageError} Naming the flag and value that are wrong.
 *
 * @example
 * ```ts
 * import { parseClientArgs } from "./client_flags.ts";
 * parseClientArgs(["--port", "7007", "hello"]); // { kind: "echo", … }
 * ```
 */
export function parseClientArgs(args: string[]): ClientCommand {
  const { values, positionals } = parseFlags(args, {
    ...ENDPOINT_FLAGS,
    timeout: { type: "string" },
    "no-newline": { type: "boolean", short: "n" },
    window: { type: "string" },
    udp: { type: "boolean" },
    banner: { type: "boolean" },
    ...CLIENT_TLS_FLAGS,
    retries: { type: "string" },
    "send-proxy": { type: "string" },
    ...OUTPUT_FLAGS,
    ...HELP_FLAG,
    ...VERSION_FLAG,
  });
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const text = (name: string) => values[name] as string | undefined;
  const udp = values.udp === true;
  const endpoint = parseEndpointFlags(values);
  if (udp && endpoint.transport !== "tcp") {
    throw new UsageError(
      "--udp: needs a host and port, not --unix: see --help",
    );
  }
  const tls = parseClientTlsFlags(values);
  if (tls === undefined) {
    for (const flag of ["ca", "servername", "alpn"]) {
      if (values[flag] !== undefined) {
        throw new UsageError(`--${flag}: only with --tls: see --help`);
      }
    }
  } else if (udp || endpoint.transport !== "tcp") {
    throw new UsageError(
      "--tls: needs TCP to a host and port (not --udp or --unix): see --help",
    );
  }
  return {
    kind: "echo",
    args: {
      endpoint,
      udp,
      banner: values.banner === true,
      tls,
      ...optionalSendProxy(text("send-proxy"), endpoint, udp),
      retries: parseFlagValue("retries", text("retries") ?? "2", parseRetries),
      timeout: parseFlagValue(
        "timeout",
        text("timeout") ??
          `${udp ? DEFAULT_UDP_TIMEOUT_MS : DEFAULT_TIMEOUT_MS}ms`,
        positiveDuration,
      ),
      message: positionals,
      newline: values["no-newline"] !== true,
      window: parseFlagValue(
        "window",
        text("window") ?? String(DEFAULT_WINDOW),
        parseWindow,
      ),
      quiet: values.quiet === true,
      verbose: values.verbose === true,
    },
  };
}

function parseRetries(text: string): number {
  const retries = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(retries >= 0 && retries <= 100)) {
    throw new RangeError(`Invalid retry count "${text}": expected 0 to 100`);
  }
  return retries;
}

function parseWindow(text: string): number {
  const size = parseSize(text);
  if (size < 1) {
    throw new RangeError(`Invalid window "${text}": expected at least 1 B`);
  }
  return size;
}

function optionalSendProxy(
  text: string | undefined,
  endpoint: Endpoint,
  udp: boolean,
): { sendProxy?: ProxyVersion } {
  const sendProxy = parseSendProxy(text, endpoint, udp);
  return sendProxy === undefined ? {} : { sendProxy };
}
