/**
 * `echo-client doctor`'s command line: flags, defaults and help text.
 *
 * @module
 */

import { DEFAULT_HOST, DEFAULT_PORT, type Endpoint } from "../net/mod.ts";
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

/** `echo-client doctor --help`. */
export const DOCTOR_HELP =
  `echo-client doctor: what the path to an echo server does to a connection

Usage: echo-client doctor [options]

Runs a bounded battery of checks through whatever sits in between (a load
balancer, a proxy, a NAT, a service mesh), prints a line per check as it
ends, and exits 1 if any failed:
  connect        connect time; with --tls, handshake time, ALPN, and that
                 the certificate is accepted
  integrity      1 B, 64 KiB and 16 MiB echoed and verified
  half-close     64 KiB sent, our FIN, then all of it back and the FIN
  idle           connections idle side by side for 1 s, 2 s, 4 s, … up to
                 --idle-max: how long an idle connection survives the path
  concurrency    N connections at once, each echo verified
  udp            with --udp: a burst of 200 datagrams: loss, duplicates,
                 reordering

Options:
  --host HOST          Server address; HOST:PORT and [::1]:PORT work too
                       (default: ${DEFAULT_HOST})
  --port PORT          Server port (default: ${DEFAULT_PORT})
  --unix PATH          Check a Unix domain socket instead
  --tls                Over TLS (--ca FILE, --servername NAME, --alpn LIST)
  --udp                Also the UDP burst, to the same host and port
  --idle-max DURATION  Longest idle period tried (default: 60s); the idle
                       check takes this long
  --concurrency N      Connections at once (default: 100)
  --timeout DURATION   Limit for each connect and each echo (default: 10s)
  --json               One JSON object on stdout instead of lines
  -h, --help           Show this help

Exit codes: 0 every check passed, 1 a check failed, 2 usage.
`;

/** Everything `echo-client doctor` needs. */
export interface DoctorArgs {
  /** The echo endpoint. */
  endpoint: Endpoint;
  /** TLS flags, if `--tls`. */
  tls: ClientTlsArgs | undefined;
  /** Also the UDP burst. */
  udp: boolean;
  /** Longest idle period tried, in ms. */
  idleMax: number;
  /** Connections at once. */
  concurrency: number;
  /** Limit for each connect and echo, in ms. */
  timeout: number;
  /** JSON output. */
  json: boolean;
}

/** What the doctor command line asks for. */
export type DoctorCommand = ParsedCommand<"doctor", DoctorArgs>;

/**
 * Parses the arguments after `echo-client doctor`.
 *
 * @param args The arguments after `doctor`.
 * @returns Help, or the validated settings.
 * @throws {UsageError} Naming the flag and value that are wrong.
 *
 * @example
 * ```ts
 * import { parseDoctorArgs } from "./doctor_flags.ts";
 * parseDoctorArgs(["--host", "10.0.0.5:7007", "--idle-max", "5m"]);
 * ```
 */
export function parseDoctorArgs(args: string[]): DoctorCommand {
  const { values, positionals } = parseFlags(args, {
    ...ENDPOINT_FLAGS,
    ...CLIENT_TLS_FLAGS,
    udp: { type: "boolean" },
    "idle-max": { type: "string" },
    concurrency: { type: "string" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    ...HELP_FLAG,
  });
  if (values.help) return { kind: "help" };
  rejectExtraArguments(positionals);
  const text = (name: string) => values[name] as string | undefined;
  const endpoint = parseEndpointFlags(values);
  const udp = values.udp === true;
  if (udp && endpoint.transport !== "tcp") {
    throw new UsageError("--udp: needs a host and port: see --help");
  }
  return {
    kind: "doctor",
    args: {
      endpoint,
      tls: parseClientTlsFlags(values),
      udp,
      idleMax: parseFlagValue(
        "idle-max",
        text("idle-max") ?? "60s",
        positiveDuration,
      ),
      concurrency: parseFlagValue(
        "concurrency",
        text("concurrency") ?? "100",
        positiveInteger,
      ),
      timeout: parseFlagValue(
        "timeout",
        text("timeout") ?? "10s",
        positiveDuration,
      ),
      json: values.json === true,
    },
  };
}
