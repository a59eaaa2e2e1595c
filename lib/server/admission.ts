/**
 * Who is let in, and under which address: the access rules, the
 * per-address limit, and which peers' PROXY headers are believed.
 *
 * Trust: a PROXY header names a client address, and anyone can write
 * one. It is believed only from a trusted proxy (`trustedProxies`,
 * loopback by default); everyone else is judged by its own socket address
 * and refused if it sends a header. Connections waiting for their header
 * hold a slot, so they count too: an untrusted peer's against its own
 * address, a trusted proxy's against the cap on pending headers (a proxy
 * carries many clients, so its own address is not limited).
 *
 * @module
 */

import {
  type AccessRules,
  type AddressLimit,
  type Cidr,
  cidrContains,
  isAllowed,
  parseCidr,
  parseIp,
} from "../access/mod.ts";
import { formatAddress } from "../net/mod.ts";
import type { RefusalReason } from "./server_metrics.ts";

/** How the server treats PROXY headers. */
export interface ProxyProtocolOptions {
  /**
   * Peers whose headers are believed. Anyone else is served under its own
   * address, and refused if it starts with a header. Peers on a Unix
   * socket are always trusted: the socket file's permissions decide who
   * can connect.
   * @default {DEFAULT_TRUSTED_PROXIES}
   */
  trustedProxies?: Cidr[];
  /**
   * Trusted proxies may also connect without a header (their health
   * checks often do), told apart by the protocol's signatures.
   * @default {false}
   */
  optional?: boolean;
  /**
   * Connections from trusted proxies still waiting for their header, at
   * most; more are refused with reason `pending-headers`.
   * @default {256}
   */
  maxPending?: number;
}

/** Loopback: a proxy on the same machine, and nothing else. */
export const DEFAULT_TRUSTED_PROXIES: readonly Cidr[] = [
  parseCidr("127.0.0.0/8"),
  parseCidr("::1/128"),
];

/** The default of {@linkcode ProxyProtocolOptions.maxPending}. */
export const DEFAULT_MAX_PENDING_HEADERS = 256;

/** A refusal: why, and what to log with it. */
export interface Refusal {
  /** Why, as counted in `echo_connections_refused_total{reason}`. */
  reason: RefusalReason;
  /** Details for the log line. */
  fields: Record<string, string | number>;
}

/** An admitted connection, as `Admission.release` needs it back. */
export interface AdmissionTicket {
  /** The address it was admitted under. */
  client: string;
  /** Whether the per-address limit counts it (then it must be released). */
  counted: boolean;
}

/**
 * Admission decisions for one thread's accept loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AddressLimit } from "../access/mod.ts";
 * import { Admission } from "./admission.ts";
 * const admission = new Admission(undefined, new AddressLimit({ limit: 1 }), {});
 * assert.ok(admission.trusts({ transport: "tcp", hostname: "127.0.0.1", port: 1 }));
 * const ticket = admission.admit("192.0.2.1");
 * assert.ok("counted" in ticket);
 * const second = admission.admit("192.0.2.1");
 * assert.ok("reason" in second && second.reason === "per-ip-limit");
 * admission.release(ticket);
 * ```
 */
export class Admission {
  readonly #access: AccessRules | undefined;
  readonly #addressLimit: AddressLimit | undefined;
  readonly #trusted: readonly Cidr[];
  readonly #maxPending: number;
  #pending = 0;

  /**
   * @param access Who may connect; undefined: everyone.
   * @param addressLimit The per-address limit, if any.
   * @param proxy Which peers' PROXY headers are believed, if the PROXY
   * protocol is on (without it, `trusts` uses the default).
   */
  constructor(
    access: AccessRules | undefined,
    addressLimit: AddressLimit | undefined,
    proxy: ProxyProtocolOptions | undefined,
  ) {
    this.#access = access;
    this.#addressLimit = addressLimit;
    this.#trusted = proxy?.trustedProxies ?? DEFAULT_TRUSTED_PROXIES;
    this.#maxPending = proxy?.maxPending ?? DEFAULT_MAX_PENDING_HEADERS;
  }

  /** Whether `peer` (a socket address) may send PROXY headers. */
  trusts(peer: Deno.Addr): boolean {
    if (peer.transport === "unix" || peer.transport === "unixpacket") {
      return true;
    }
    const ip = parseIp(hostOf(peer));
    return this.#trusted.some((range) => cidrContains(range, ip));
  }

  /**
   * Applies the access rules, then takes one of `client`'s connections
   * under the per-address limit.
   *
   * @returns Why not, or the admission: pass it to `release` when the
   * connection closes.
   */
  admit(client: string): Refusal | AdmissionTicket {
    if (this.#access !== undefined && !isAllowed(this.#access, client)) {
      return { reason: "denied", fields: { client } };
    }
    const limit = this.#addressLimit;
    if (limit === undefined) return { client, counted: false };
    const admitted = limit.tryAcquire(client);
    if (admitted === false) {
      return {
        reason: "per-ip-limit",
        fields: { client, limit: limit.limit },
      };
    }
    return { client, counted: admitted === "counted" };
  }

  /** Gives back what `admit` took: only a connection it counted. */
  release(ticket: AdmissionTicket): void {
    if (ticket.counted) this.#addressLimit?.release(ticket.client);
  }

  /**
   * Counts a trusted proxy's connection as waiting for its header, if the
   * cap allows. Call `headerDone()` once it has arrived or failed.
   */
  startHeader(): Refusal | undefined {
    if (this.#pending >= this.#maxPending) {
      return {
        reason: "pending-headers",
        fields: { limit: this.#maxPending },
      };
    }
    this.#pending++;
    return undefined;
  }

  /** One header fewer to wait for. */
  headerDone(): void {
    this.#pending--;
  }
}

/** The address part of a network address, as the access rules see it. */
export function hostOf(addr: Deno.Addr): string {
  return "hostname" in addr ? addr.hostname : formatAddress(addr);
}
