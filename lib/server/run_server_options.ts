/**
 * The options of `runServer`: one shape from the command line
 * (which fills it as it is) to every serving thread (which gets the part
 * it uses, {@linkcode ThreadOptions}, unchanged).
 *
 * @module
 */

import type { AccessRules } from "../access/mod.ts";
import type { LoggerOptions } from "../log/mod.ts";
import type { Endpoint } from "../net/mod.ts";
import type { FaultSettings } from "../faults/mod.ts";
import type { ProxyProtocolOptions } from "./admission.ts";
import type { HostFacts } from "../banner/mod.ts";
import type {
  ServeLimits,
  ServerBanner,
  StreamService,
} from "./serve_options.ts";

/** Where the TLS certificate comes from. */
export type ServerTls =
  /** A certificate chain and its private key, PEM. */
  | { cert: string; key: string }
  /** Generate a self-signed certificate for the names clients will dial. */
  | { generate: true };

/** Options for `runServer`. */
export interface RunServerOptions {
  /** Host and port, or a Unix socket path. */
  endpoint: Endpoint;
  /**
   * Timeouts and the connection limit, passed to every thread as they are
   * (`maxConnections` is split evenly between the workers).
   * @default {no limits, the default timeouts}
   */
  limits?: ServeLimits;
  /**
   * Serve the stream protocol (TCP, TLS or Unix).
   * @default {true}
   */
  tcp?: boolean;
  /**
   * Also serve UDP echo on the same port number.
   * @default {false}
   */
  udp?: boolean;
  /**
   * UDP datagrams per second echoed per source address.
   * @default {1000}
   */
  udpRate?: number;
  /**
   * Bytes all connection buffers together may grow to beyond their first
   * 256 B each (all workers share it).
   * @default {67108864}
   */
  bufferBudget?: number;
  /** Serve TLS on the stream listener. */
  tls?: ServerTls;
  /** With TLS: ALPN protocols to offer, most preferred first. */
  alpn?: string[];
  /**
   * Event loops (threads) sharing the port through `SO_REUSEPORT`;
   * `maxConnections` is split evenly between them.
   * @default {1}
   */
  workers?: number;
  /**
   * Log format and verbosity; lines go to stderr.
   * @default {text, per-connection lines included}
   */
  log?: Pick<LoggerOptions, "format" | "quiet">;
  /**
   * Connections from trusted proxies start with a PROXY header (v1 or v2);
   * its source address is the client's. Anyone else is served under its
   * own address and refused if it sends a header. With TLS, the header
   * comes before the handshake, as load balancers in TCP mode send it.
   * `maxPending` is split evenly between the workers, like
   * `maxConnections`.
   * @default {no PROXY protocol}
   */
  proxyProtocol?: ProxyProtocolOptions;
  /** Who may connect, by effective client address. @default {everyone} */
  access?: AccessRules;
  /** Connections one client address may hold at once. @default {no limit} */
  maxConnectionsPerIp?: number;
  /**
   * For `maxConnectionsPerIp`, IPv6 clients count per prefix of this many
   * bits: one host is usually given a /64.
   * @default {64}
   */
  ipv6Prefix?: number;
  /**
   * Serve `/healthz`, `/readyz` and `/metrics` over HTTP here.
   * @default {no admin endpoint}
   */
  admin?: { hostname: string; port: number };
  /**
   * What stream connections (and datagrams) get: echo (RFC 862), discard
   * (RFC 863) or chargen (RFC 864).
   * @default {"echo"}
   */
  service?: StreamService;
  /**
   * Faults to inject on purpose (delay, throttle, early close, …), into
   * the share `faults.faultRate` of connections and datagrams.
   * @default {none}
   */
  faults?: FaultSettings;
  /**
   * Let the admin endpoint replace the faults (`PUT /faults`); every
   * connection then goes through the fault path, so a change reaches open
   * connections too.
   * @default {false: `GET /faults` only}
   */
  liveFaults?: boolean;
  /**
   * Send a banner line first on every connection (and, with `banner.udp`,
   * ahead of every UDP answer): which backend answered.
   * @default {none: the echo is byte-exact from the first byte}
   */
  banner?: ServerBanner;
  /**
   * What this host is called (hostname, and the pod, namespace and node a
   * Kubernetes downward API gives), for `/info`.
   * @default {unknown}
   */
  host?: HostFacts;
  /** Aborting it starts the drain; its reason (e.g. `"SIGTERM"`) is logged. */
  signal?: AbortSignal;
  /**
   * Called once everything listens, before serving starts; resolve it to
   * go on. Runs before any connection is served, so what it prints comes
   * first.
   */
  onListening?: (listening: Listening) => void | Promise<void>;
}

/** What the server listens on, for {@linkcode RunServerOptions.onListening}. */
export interface Listening {
  /** The stream listener's address (the bound port, or the socket path). */
  stream?: Deno.Addr;
  /** The UDP socket's address. */
  datagram?: Deno.Addr;
  /** With TLS: the certificate served (PEM) and its SHA-256 fingerprint. */
  tls?: { cert: string; fingerprint: string };
  /** The admin endpoint's address, when there is one. */
  admin?: Deno.NetAddr;
}

/**
 * The part of {@linkcode RunServerOptions} a serving thread uses, as it
 * is: a new option a thread needs is added to this list.
 */
export type ThreadOptions = Pick<
  RunServerOptions,
  | "endpoint"
  | "tcp"
  | "udp"
  | "udpRate"
  | "limits"
  | "proxyProtocol"
  | "access"
  | "log"
  | "service"
  | "liveFaults"
  | "banner"
>;
