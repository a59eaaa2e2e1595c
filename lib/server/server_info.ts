/**
 * What `GET /info` says of a running server: version, host, uptime, what
 * it listens on, and the settings in force. It is for people and scripts
 * comparing backends, and anyone who reaches the admin port reads it, so
 * it holds nothing secret: no key, no certificate, no client address.
 *
 * @module
 */

import { formatBannerTemplate } from "../banner/mod.ts";
import { type FaultSettings, faultsToJson } from "../faults/mod.ts";
import { formatAddress } from "../net/mod.ts";
import {
  DEFAULT_MAX_PENDING_HEADERS,
  DEFAULT_TRUSTED_PROXIES,
} from "./admission.ts";
import { DEFAULT_BUFFER_BUDGET } from "./buffer_budget.ts";
import { DEFAULT_MAX_BUFFER_SIZE } from "./echo_connection.ts";
import type { Listening, RunServerOptions } from "./run_server_options.ts";
import { DEFAULT_DRAIN_TIMEOUT_MS } from "./serve_options.ts";
import { DEFAULT_UDP_RATE } from "./udp_echo_server.ts";

/** One address the server answers on. */
export interface ListenerInfo {
  /** `tcp`, `tls`, `unix`, `udp`, or `http` (the admin endpoint). */
  protocol: "tcp" | "tls" | "unix" | "udp" | "http";
  /** Host and port, or the socket's path. */
  address: string;
}

/** The answer to `GET /info`. */
export interface ServerInfo {
  /** The release, e.g. `0.1.0`. */
  version: string | null;
  /** The host's name (in Kubernetes, the pod's). */
  hostname: string | null;
  /** From the downward API (`POD_NAME`, `POD_NAMESPACE`, `NODE_NAME`). */
  pod: string | null;
  /** The pod's namespace. */
  namespace: string | null;
  /** The node the pod runs on. */
  node: string | null;
  /** When it started, ISO 8601 UTC. */
  started: string;
  /** Seconds since it started. */
  "uptime_s": number;
  /** Where it answers. */
  listeners: ListenerInfo[];
  /** The settings in force, every default filled in, units in the names. */
  settings: Record<string, unknown>;
}

/**
 * Describes the server for `/info`.
 *
 * @param options The server's options, as `runServer` got them.
 * @param listening Where it listens, once it does.
 * @param state When it started, and the faults in force now.
 * @returns The description.
 */
export function serverInfo(
  options: RunServerOptions,
  listening: Listening | undefined,
  state: { startedAt: Date; faults: FaultSettings | undefined },
): ServerInfo {
  const host = options.host ?? {};
  return {
    version: host.version ?? null,
    hostname: host.hostname ?? null,
    pod: host.pod ?? null,
    namespace: host.namespace ?? null,
    node: host.node ?? null,
    started: state.startedAt.toISOString(),
    uptime_s: Math.floor((Date.now() - state.startedAt.getTime()) / 1000),
    listeners: listeners(options, listening),
    settings: settings(options, state.faults),
  };
}

function listeners(
  options: RunServerOptions,
  listening: Listening | undefined,
): ListenerInfo[] {
  if (listening === undefined) return [];
  const found: ListenerInfo[] = [];
  const { stream, datagram, admin } = listening;
  if (stream !== undefined) {
    found.push({
      protocol: stream.transport === "unix"
        ? "unix"
        : options.tls === undefined
        ? "tcp"
        : "tls",
      address: formatAddress(stream),
    });
  }
  if (datagram !== undefined) {
    found.push({ protocol: "udp", address: formatAddress(datagram) });
  }
  if (admin !== undefined) {
    found.push({ protocol: "http", address: formatAddress(admin) });
  }
  return found;
}

function settings(
  options: RunServerOptions,
  faults: FaultSettings | undefined,
): Record<string, unknown> {
  const limits = options.limits ?? {};
  const proxy = options.proxyProtocol;
  return {
    service: options.service ?? "echo",
    workers: options.workers ?? 1,
    tcp: options.tcp ?? true,
    udp: options.udp ?? false,
    udp_rate_per_s: options.udp ? options.udpRate ?? DEFAULT_UDP_RATE : null,
    tls: options.tls === undefined ? null : {
      certificate: "generate" in options.tls ? "generated" : "file",
      alpn: options.alpn ?? [],
    },
    max_connections: finiteOrNull(limits.maxConnections),
    max_connections_per_ip: options.maxConnectionsPerIp ?? null,
    ipv6_prefix: options.ipv6Prefix ?? 64,
    idle_timeout_ms: limits.idleTimeout ?? 0,
    handshake_timeout_ms: limits.handshakeTimeout ?? 0,
    drain_timeout_ms: limits.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS,
    shutdown_delay_ms: limits.shutdownDelay ?? 0,
    max_buffer_bytes: limits.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE,
    buffer_budget_bytes: options.bufferBudget ?? DEFAULT_BUFFER_BUDGET,
    proxy_protocol: proxy === undefined ? null : {
      trusted: (proxy.trustedProxies ?? DEFAULT_TRUSTED_PROXIES).map((cidr) =>
        cidr.text
      ),
      optional: proxy.optional ?? false,
      max_pending: proxy.maxPending ?? DEFAULT_MAX_PENDING_HEADERS,
    },
    access: options.access === undefined ? null : {
      allow: options.access.allow.map((cidr) => cidr.text),
      deny: options.access.deny.map((cidr) => cidr.text),
    },
    banner: options.banner === undefined ? null : {
      template: formatBannerTemplate(options.banner.template),
      udp: options.banner.udp ?? false,
    },
    faults: faults === undefined ? null : faultsToJson(faults),
    live_faults: options.liveFaults ?? false,
    log_format: options.log?.format ?? "text",
  };
}

function finiteOrNull(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}
