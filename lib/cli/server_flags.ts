/**
 * `echo-server`'s command line: flags, defaults and help text.
 *
 * @module
 */

import { type Cidr, parseCidr } from "../access/mod.ts";
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  parseHost,
  parsePort,
} from "../net/mod.ts";
import { UsageError } from "./usage_error.ts";
import type { ParsedCommand } from "./command.ts";
import {
  ENDPOINT_FLAGS,
  type FlagSpecs,
  HELP_FLAG,
  OUTPUT_FLAGS,
  type ParsedFlags,
  parseEndpointFlags,
  parseFlags,
  parseFlagValue,
  rejectExtraArguments,
  VERSION_FLAG,
} from "./flags.ts";
import { durationOrZero, positiveInteger } from "./flag_values.ts";
import {
  DEFAULT_BUFFER_BUDGET,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_BUFFER_SIZE,
  DEFAULT_MAX_PENDING_HEADERS,
  DEFAULT_UDP_RATE,
  type ProxyProtocolOptions,
  type RunServerOptions,
  type ServeLimits,
  type ServerBanner,
  type StreamService,
} from "../server/mod.ts";
import { FAULT_KEYS, type FaultSettings, parseFault } from "../faults/mod.ts";
import { parseBannerTemplate } from "../banner/mod.ts";
import { type LogFormat, parseSize } from "../log/mod.ts";

/** `echo-server`'s help text, printed by `--help`. */
export const SERVER_HELP =
  `echo-server: a TCP and UDP echo server (every byte received is sent back)

Usage: echo-server [options]
       echo-server health [URL]   is a running server ready? (exit 0/1; --help)

Options:
  --host HOST              Address to listen on; 0.0.0.0 or :: exposes it
                           to the network (default: ${DEFAULT_HOST})
  --port PORT              Port, 0-65535; 0 picks a free one (default: ${DEFAULT_PORT}).
                           --host takes HOST:PORT too, e.g. [::1]:7007
  --unix PATH              Listen on a Unix domain socket instead; a stale
                           socket file there is replaced, any other file is not
  --idle-timeout DURATION  Close connections silent this long (default: off)
  --max-connections N      Refuse connections beyond N (default: unlimited)
  --drain-timeout DURATION On SIGINT/SIGTERM, let open connections finish
                           this long, then close them (default: 5s)
  --shutdown-delay DURATION  On SIGINT/SIGTERM, first keep accepting this
                           long while /readyz says 503, so load balancers
                           stop sending before the drain (default: 0s)
  --max-buffer SIZE        Largest per-connection buffer; buffers start at
                           256 B and grow while reads fill them (default: 256KiB)
  --buffer-budget SIZE     Most memory all connection buffers together may
                           grow to; beyond it, connections keep their small
                           buffers (default: ${
    DEFAULT_BUFFER_BUDGET / 1024 / 1024
  }MiB)
  --udp                    Also serve UDP echo (RFC 862) on the same port
  --no-tcp                 With --udp: UDP only
  --udp-rate N             UDP datagrams per second answered per source
                           address, 0 = no limit (default: ${DEFAULT_UDP_RATE})
  --tls                    Serve TLS with a generated self-signed certificate
                           (ECDSA P-256, valid 24 h, for the listening host);
                           its SHA-256 fingerprint is printed on stdout
  --tls-cert-out FILE      With --tls: write the certificate (PEM) here, for
                           echo-client --ca FILE
  --tls-cert FILE          Serve TLS with this certificate chain (PEM) ...
  --tls-key FILE           ... and this private key (PEM)
  --alpn LIST              With TLS: protocols to offer, e.g. h2,http/1.1
  --handshake-timeout DURATION  Close TLS clients that have not finished the
                           handshake by then, socket included (default: 10s);
                           0 = no deadline: TLS is then served by Deno's own
                           TLS listener (faster; not with --proxy-protocol),
                           and a silent client keeps its socket until it
                           leaves
  --workers N              Event loops (threads) sharing the port through
                           SO_REUSEPORT; Linux only (default: 1)
  --max-connections-per-ip N  Refuse connections from one client address
                           beyond N (default: unlimited)
  --ipv6-prefix BITS       For --max-connections-per-ip, IPv6 clients count
                           per /BITS, 1-128, as one host is usually given a
                           /64 (default: 64)
  --allow CIDR             Only these clients may connect; repeatable or
                           comma-separated, IPv4 and IPv6 (default: all)
  --deny CIDR              These clients may not connect; wins over --allow
  --proxy-protocol         Connections from trusted proxies (--proxy-from)
                           start with a PROXY header (v1 or v2, from HAProxy
                           or a load balancer); its client address counts,
                           for logs and the rules above. Anyone else is
                           served under its own address, and refused if it
                           sends a header. With TLS, the header comes first
  --proxy-from CIDR        Trusted proxies; repeatable or comma-separated;
                           replaces the default (default: 127.0.0.0/8,::1)
  --proxy-optional         Trusted proxies may also connect without a header
  --max-pending-headers N  Trusted proxies' connections waiting for their
                           header, at most (split between --workers); more
                           are refused (default: ${DEFAULT_MAX_PENDING_HEADERS})
  --admin-port PORT        Serve /healthz, /readyz, /metrics (Prometheus) and
                           /info over HTTP on this port; 0 picks one
                           (default: off)
  --admin-host HOST        Address for the admin endpoint (default: ${DEFAULT_HOST})
  --admin-faults           Let PUT /faults on the admin endpoint change the
                           faults while serving (GET /faults shows them)
  --banner TEMPLATE        Send one line first on every connection, before
                           echoing: which backend answered. Fields:
                           {hostname} {pod} {namespace} {node} {server}
                           {peer} {proxy_client} {sni} {alpn} {version};
                           json for all of them ({sni} needs the default
                           --handshake-timeout; default: off, the echo is
                           byte-exact)
  --udp-banner             With --banner and --udp: put the line ahead of
                           UDP answers too, to datagrams at least as long
                           as the line

Fault injection (default: none; see the README's "Fault injection"):
  --delay DURATION         Hold each echoed chunk (UDP: datagram) this long
  --jitter DURATION        Plus a random part of up to this long
  --throttle RATE          Echo at most RATE bytes per second per
                           connection, e.g. 64KiB
  --chunk SIZE             Write the echo in pieces of at most SIZE ...
  --chunk-delay DURATION   ... with this pause between them
  --close-after SIZE|DURATION  Close (FIN) after echoing SIZE bytes, or
                           after DURATION
  --reset-after SIZE|DURATION  The same, with a reset (RST)
  --blackhole              Accept and read, never answer
  --fault-rate P           Share of connections (UDP: datagrams) that get
                           the faults, 0 to 1 (default: 1)
  --fault-seed N           Make the choice of --fault-rate reproducible
  --udp-drop P             Share of datagrams not answered
  --udp-duplicate P        Share of datagrams answered twice
  --discard                Discard (RFC 863): read, answer nothing
  --chargen                Chargen (RFC 864): send the rotating lines

  --log-format text|json   Log line format on stderr (default: text)
  --quiet                  No per-connection log lines
  --verbose                Stack traces on unexpected errors
  -h, --help               Show this help
  -V, --version            Show the version

Durations take a unit: 500ms, 0.05s, 5s, 2m. Sizes: 512, 64KiB, 1MiB.
The first line on stdout is "listening on HOST:PORT" with the bound port
("listening on tls HOST:PORT" for TLS, "listening on udp HOST:PORT" for UDP;
with --udp a second line gives the UDP socket).
File flags (--tls-cert, --tls-key, --tls-cert-out, --unix) need read/write
permission for those files under deno run.
Exit codes: 0 ok, 2 usage, 3 unknown host, 4 address in use, 5 permission
denied, 8 other network error, 70 internal error (a serving thread died),
130/143 second signal.
`;

/**
 * Everything `echo-server` needs to run, after parsing: the options
 * {@linkcode runServer} takes, in the same shape and names, except that
 * the TLS files are still named, not read (see `serverOptions`).
 */
export interface ServerArgs extends
  Omit<
    RunServerOptions,
    "tls" | "signal" | "onListening" | "banner" | "host"
  > {
  /** Where the TLS certificate comes from; undefined for plain TCP. */
  tls: TlsSource | undefined;
  /** The banner, without the host's fields (read when the server starts). */
  banner?: Omit<ServerBanner, "host">;
  /** Print stack traces for unexpected errors. */
  verbose: boolean;
}

/** Where the server's TLS certificate comes from. */
export type TlsSource =
  | { kind: "files"; certFile: string; keyFile: string }
  | { kind: "generate"; certOut: string | undefined };

/** How long a client may take over its TLS handshake, by default. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** `echo-server`'s flags. */
const SERVER_FLAGS = {
  ...ENDPOINT_FLAGS,
  "idle-timeout": { type: "string" },
  "max-connections": { type: "string" },
  "drain-timeout": { type: "string" },
  "shutdown-delay": { type: "string" },
  "max-buffer": { type: "string" },
  "buffer-budget": { type: "string" },
  "log-format": { type: "string" },
  workers: { type: "string" },
  udp: { type: "boolean" },
  tls: { type: "boolean" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-cert-out": { type: "string" },
  alpn: { type: "string" },
  "handshake-timeout": { type: "string" },
  "no-tcp": { type: "boolean" },
  "udp-rate": { type: "string" },
  "proxy-protocol": { type: "boolean" },
  "proxy-from": { type: "string", multiple: true },
  "proxy-optional": { type: "boolean" },
  "max-pending-headers": { type: "string" },
  allow: { type: "string", multiple: true },
  deny: { type: "string", multiple: true },
  "max-connections-per-ip": { type: "string" },
  "ipv6-prefix": { type: "string" },
  "admin-port": { type: "string" },
  "admin-host": { type: "string" },
  "admin-faults": { type: "boolean" },
  banner: { type: "string" },
  "udp-banner": { type: "boolean" },
  delay: { type: "string" },
  jitter: { type: "string" },
  throttle: { type: "string" },
  chunk: { type: "string" },
  "chunk-delay": { type: "string" },
  "close-after": { type: "string" },
  "reset-after": { type: "string" },
  blackhole: { type: "boolean" },
  "fault-rate": { type: "string" },
  "fault-seed": { type: "string" },
  "udp-drop": { type: "string" },
  "udp-duplicate": { type: "string" },
  discard: { type: "boolean" },
  chargen: { type: "boolean" },
  ...OUTPUT_FLAGS,
  ...HELP_FLAG,
  ...VERSION_FLAG,
} as const satisfies FlagSpecs;

/** What the command line asks for. */
export type ServerCommand = ParsedCommand<"serve", ServerArgs>;

/**
 * Parses `echo-server`'s arguments.
 *
 * @param args The arguments after the program name.
 * @returns Help, version, or the validated settings to serve with.
 * @throws {UsageError} Naming the flag and value that are wrong.
 *
 * @example
 * ```ts
 * import { parseServerArgs } from "./server_flags.ts";
 * parseServerArgs(["--port", "0"]); // { kind: "serve", args: { port: 0, … } }
 * ```
 */
export function parseServerArgs(args: string[]): ServerCommand {
  const { values, positionals } = parseFlags(args, SERVER_FLAGS);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  rejectExtraArguments(positionals);
  const text = (name: string) => values[name] as string | undefined;
  const workers = parseFlagValue(
    "workers",
    text("workers") ?? "1",
    parseWorkers,
  );
  const udp = values.udp === true;
  const tls = parseTlsFlags(values);
  checkCombinations(values, { workers, udp, tls });
  const maxPerIp = text("max-connections-per-ip");
  const alpn = text("alpn");
  const proxyProtocol = parseProxyFlags(values);
  const access = {
    allow: parseRanges("allow", values.allow),
    deny: parseRanges("deny", values.deny),
  };
  const admin = parseAdmin(values);
  const faults = parseFaultFlags(values);
  const service = parseService(values);
  const banner = parseBanner(values, udp);
  return {
    kind: "serve",
    args: {
      endpoint: parseEndpointFlags(values, { allowZero: true }),
      limits: parseLimits(values),
      bufferBudget: parseFlagValue(
        "buffer-budget",
        text("buffer-budget") ?? String(DEFAULT_BUFFER_BUDGET),
        parseSize,
      ),
      workers,
      tcp: values["no-tcp"] !== true,
      tls,
      ...(alpn !== undefined &&
        { alpn: parseFlagValue("alpn", alpn, parseAlpnList) }),
      udp,
      udpRate: parseFlagValue(
        "udp-rate",
        text("udp-rate") ?? String(DEFAULT_UDP_RATE),
        parseUdpRate,
      ),
      log: {
        format: parseFlagValue(
          "log-format",
          text("log-format") ?? "text",
          parseLogFormat,
        ),
        quiet: values.quiet === true,
      },
      verbose: values.verbose === true,
      ...(proxyProtocol !== undefined && { proxyProtocol }),
      ...(access.allow.length + access.deny.length > 0 && { access }),
      ...(maxPerIp !== undefined && {
        maxConnectionsPerIp: parseFlagValue(
          "max-connections-per-ip",
          maxPerIp,
          positiveInteger,
        ),
      }),
      ipv6Prefix: parseFlagValue(
        "ipv6-prefix",
        text("ipv6-prefix") ?? "64",
        parsePrefixLength,
      ),
      ...(admin !== undefined && { admin }),
      ...(service !== "echo" && { service }),
      ...(faults !== undefined && { faults }),
      ...(values["admin-faults"] === true && { liveFaults: true }),
      ...(banner !== undefined && { banner }),
    },
  };
}

/** `--banner` and `--udp-banner`. */
function parseBanner(
  values: ParsedFlags["values"],
  udp: boolean,
): Omit<ServerBanner, "host"> | undefined {
  const template = values.banner as string | undefined;
  const inUdp = values["udp-banner"] === true;
  if (template === undefined) {
    if (inUdp) {
      throw new UsageError("--udp-banner: only with --banner: see --help");
    }
    return undefined;
  }
  if (inUdp && !udp) {
    throw new UsageError("--udp-banner: only with --udp: see --help");
  }
  if (values["no-tcp"] === true && !inUdp) {
    throw new UsageError(
      "--banner: with --no-tcp, only --udp-banner sends it: see --help",
    );
  }
  return {
    template: parseFlagValue("banner", template, parseBannerTemplate),
    ...(inUdp && { udp: true }),
  };
}

/** The fault flags given, as one set of faults; undefined: none given. */
function parseFaultFlags(
  values: ParsedFlags["values"],
): FaultSettings | undefined {
  let faults: FaultSettings | undefined;
  for (const key of FAULT_KEYS) {
    const flag = key.replaceAll("_", "-");
    const value = values[flag] as string | boolean | undefined;
    if (value === undefined) continue;
    faults = {
      ...faults,
      ...parseFlagValue(flag, String(value), () => parseFault(key, value)),
    };
  }
  if (faults?.chunkDelay !== undefined && faults.chunk === undefined) {
    throw new UsageError("--chunk-delay: only with --chunk: see --help");
  }
  if (faults?.closeAfter !== undefined && faults.resetAfter !== undefined) {
    throw new UsageError(
      "--close-after and --reset-after: give one of them: see --help",
    );
  }
  return faults;
}

/** Echo, or one of its RFC companions (`--discard`, `--chargen`). */
function parseService(values: ParsedFlags["values"]): StreamService {
  if (values.discard === true && values.chargen === true) {
    throw new UsageError(
      "--discard and --chargen: give one of them: see --help",
    );
  }
  return values.discard === true
    ? "discard"
    : values.chargen === true
    ? "chargen"
    : "echo";
}

/** Flags that cannot go together, refused with the one that is wrong. */
function checkCombinations(
  values: ParsedFlags["values"],
  chosen: { workers: number; udp: boolean; tls: TlsSource | undefined },
): void {
  const unix = values.unix !== undefined;
  if (chosen.workers > 1 && unix) {
    throw new UsageError(
      "--workers: more than 1 needs a TCP port, not --unix: see --help",
    );
  }
  if (values["no-tcp"] === true && !chosen.udp) {
    throw new UsageError("--no-tcp: only with --udp: see --help");
  }
  if (chosen.udp && unix) {
    throw new UsageError(
      "--udp: needs a host and port, not --unix: see --help",
    );
  }
  if (chosen.tls !== undefined && unix) {
    throw new UsageError(
      "--tls: needs a host and port, not --unix: see --help",
    );
  }
  if (values.alpn !== undefined && chosen.tls === undefined) {
    throw new UsageError("--alpn: only with --tls or --tls-cert: see --help");
  }
  if (values["admin-faults"] === true && values["admin-port"] === undefined) {
    throw new UsageError("--admin-faults: only with --admin-port: see --help");
  }
}

/** The timeouts and the connection limit, with their defaults. */
function parseLimits(values: ParsedFlags["values"]): ServeLimits {
  const text = (name: string) => values[name] as string | undefined;
  return {
    idleTimeout: parseFlagValue(
      "idle-timeout",
      text("idle-timeout") ?? "0s",
      durationOrZero,
    ),
    maxConnections: parseFlagValue(
      "max-connections",
      text("max-connections") ?? "Infinity",
      parseConnectionLimit,
    ),
    drainTimeout: parseFlagValue(
      "drain-timeout",
      text("drain-timeout") ?? `${DEFAULT_DRAIN_TIMEOUT_MS}ms`,
      durationOrZero,
    ),
    shutdownDelay: parseFlagValue(
      "shutdown-delay",
      text("shutdown-delay") ?? "0s",
      durationOrZero,
    ),
    maxBufferSize: parseFlagValue(
      "max-buffer",
      text("max-buffer") ?? String(DEFAULT_MAX_BUFFER_SIZE),
      parseMaxBuffer,
    ),
    handshakeTimeout: parseFlagValue(
      "handshake-timeout",
      text("handshake-timeout") ?? `${DEFAULT_HANDSHAKE_TIMEOUT_MS}ms`,
      durationOrZero,
    ),
  };
}

/** `--allow`/`--deny`: repeatable, each a comma-separated list of ranges. */
function parseRanges(
  flag: string,
  given: string | boolean | string[] | undefined,
): Cidr[] {
  const texts = Array.isArray(given) ? given : [];
  return texts.flatMap((text) => text.split(",")).map((range) =>
    parseFlagValue(flag, range, parseCidr)
  );
}

/** `--proxy-protocol` and the flags that only go with it. */
function parseProxyFlags(
  values: ParsedFlags["values"],
): ProxyProtocolOptions | undefined {
  const pending = values["max-pending-headers"] as string | undefined;
  if (values["proxy-protocol"] !== true) {
    for (
      const flag of ["proxy-from", "proxy-optional", "max-pending-headers"]
    ) {
      if (values[flag] !== undefined) {
        throw new UsageError(
          `--${flag}: only with --proxy-protocol: see --help`,
        );
      }
    }
    return undefined;
  }
  const from = parseRanges("proxy-from", values["proxy-from"]);
  return {
    ...(from.length > 0 && { trustedProxies: from }),
    optional: values["proxy-optional"] === true,
    maxPending: parseFlagValue(
      "max-pending-headers",
      pending ?? String(DEFAULT_MAX_PENDING_HEADERS),
      positiveInteger,
    ),
  };
}

function parseAdmin(
  values: ParsedFlags["values"],
): { hostname: string; port: number } | undefined {
  const port = values["admin-port"] as string | undefined;
  const host = values["admin-host"] as string | undefined;
  if (port === undefined) {
    if (host !== undefined) {
      throw new UsageError("--admin-host: only with --admin-port: see --help");
    }
    return undefined;
  }
  return {
    hostname: parseFlagValue("admin-host", host ?? DEFAULT_HOST, parseHost),
    port: parseFlagValue(
      "admin-port",
      port,
      (text) => parsePort(text, { allowZero: true }),
    ),
  };
}

function parseConnectionLimit(text: string): number {
  if (text === "Infinity") return Infinity;
  const limit = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && Number.isSafeInteger(limit))) {
    throw new RangeError(
      `Invalid connection limit "${text}": expected a whole number of at least 1`,
    );
  }
  return limit;
}

function parsePrefixLength(text: string): number {
  const bits = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(bits >= 1 && bits <= 128)) {
    throw new RangeError(
      `Invalid prefix length "${text}": expected 1 to 128 bits`,
    );
  }
  return bits;
}

function parseMaxBuffer(text: string): number {
  const size = parseSize(text);
  if (size < 1 || size > 16 * 1024 * 1024) {
    throw new RangeError(
      `Invalid buffer size "${text}": expected 1 B to 16 MiB`,
    );
  }
  return size;
}

function parseWorkers(text: string): number {
  const workers = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(workers >= 1 && workers <= 256)) {
    throw new RangeError(`Invalid worker count "${text}": expected 1 to 256`);
  }
  if (workers > 1 && Deno.build.os !== "linux") {
    throw new RangeError(
      `Invalid worker count "${text}": more than 1 needs Linux (SO_REUSEPORT load balancing)`,
    );
  }
  return workers;
}

function parseTlsFlags(
  values: ParsedFlags["values"],
): TlsSource | undefined {
  const certFile = values["tls-cert"] as string | undefined;
  const keyFile = values["tls-key"] as string | undefined;
  const certOut = values["tls-cert-out"] as string | undefined;
  if (certFile !== undefined || keyFile !== undefined) {
    if (certFile === undefined || keyFile === undefined) {
      throw new UsageError(
        "--tls-cert and --tls-key: give both (PEM files): see --help",
      );
    }
    if (certOut !== undefined) {
      throw new UsageError(
        "--tls-cert-out: only with --tls (a generated certificate): see --help",
      );
    }
    return { kind: "files", certFile, keyFile };
  }
  if (values.tls === true) return { kind: "generate", certOut };
  if (certOut !== undefined) {
    throw new UsageError("--tls-cert-out: only with --tls: see --help");
  }
  return undefined;
}

function parseAlpnList(text: string): string[] {
  const protocols = text.split(",").map((protocol) => protocol.trim());
  if (protocols.some((protocol) => protocol === "" || protocol.length > 255)) {
    throw new TypeError(
      `Invalid ALPN list "${text}": expected names separated by commas, e.g. h2,http/1.1`,
    );
  }
  return protocols;
}

function parseUdpRate(text: string): number {
  if (text === "0") return Infinity;
  const rate = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(rate >= 1 && Number.isSafeInteger(rate))) {
    throw new RangeError(
      `Invalid rate "${text}": expected datagrams per second, a whole number (0 = no limit)`,
    );
  }
  return rate;
}

function parseLogFormat(text: string): LogFormat {
  if (text === "text" || text === "json") return text;
  throw new TypeError(`Invalid log format "${text}": expected text or json`);
}
