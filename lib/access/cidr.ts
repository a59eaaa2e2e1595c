/**
 * IP address ranges in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), and
 * whether an address falls in one. IPv4-mapped IPv6 addresses
 * (`::ffff:10.1.2.3`, what a dual-stack listener reports for IPv4 peers)
 * are compared as the IPv4 address they carry.
 *
 * @module
 */

import { ipv6Bytes } from "../net/mod.ts";

/** An address as a number, with its family. */
export interface IpNumber {
  /** 4 or 6. */
  family: 4 | 6;
  /** The address's bits. */
  value: bigint;
}

/** A parsed CIDR range. */
export interface Cidr {
  /** The range as typed, for messages. */
  text: string;
  /** 4 or 6. */
  family: 4 | 6;
  /** The network's bits (host bits zero). */
  network: bigint;
  /** The prefix length. */
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4).
 *
 * @param text The address, IPv6 without brackets.
 * @returns The address as a number, or undefined if it is not one.
 *
 * @example
 * ```ts
 * import { parseIp } from "./cidr.ts";
 * parseIp("::ffff:127.0.0.1"); // { family: 4, value: 2130706433n }
 * ```
 */
export function parseIp(text: string): IpNumber | undefined {
  const v4 = IPV4.exec(text);
  if (v4 !== null) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((octet) => octet > 255)) return undefined;
    return {
      family: 4,
      value: octets.reduce((sum, octet) => (sum << 8n) + BigInt(octet), 0n),
    };
  }
  if (!text.includes(":")) return undefined;
  const value = parseIpv6(text);
  if (value === undefined) return undefined;
  // ::ffff:a.b.c.d is an IPv4 peer seen through a dual-stack socket.
  if (value >> 32n === 0xffffn) {
    return { family: 4, value: value & 0xffffffffn };
  }
  return { family: 6, value };
}

function parseIpv6(text: string): bigint | undefined {
  const bytes = ipv6Bytes(text);
  return bytes?.reduce((sum, byte) => (sum << 8n) + BigInt(byte), 0n);
}

/**
 * Parses a CIDR range; a bare address is a range of one.
 *
 * @param text E.g. `10.0.0.0/8`, `2001:db8::/32`, `127.0.0.5`.
 * @returns The range.
 * @throws {TypeError} If it is not an address with an optional prefix.
 *
 * @example
 * ```ts
 * import { cidrContains, parseCidr } from "./cidr.ts";
 * cidrContains(parseCidr("10.0.0.0/8"), "10.1.2.3"); // true
 * ```
 */
export function parseCidr(text: string): Cidr {
  const [address = "", prefixText, ...rest] = text.trim().split("/");
  const ip = parseIp(address.replace(/^\[(.*)\]$/, "$1"));
  const bits = ip?.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (
    ip === undefined || rest.length > 0 ||
    !(Number.isInteger(prefix) && prefix >= 0 && prefix <= bits) ||
    (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))
  ) {
    throw new TypeError(
      `Invalid address range "${text}": expected e.g. 10.0.0.0/8, 2001:db8::/32 or 127.0.0.5`,
    );
  }
  const hostBits = BigInt(bits - prefix);
  return {
    text,
    family: ip.family,
    network: (ip.value >> hostBits) << hostBits,
    prefix,
  };
}

/**
 * Whether `address` is in `range`.
 *
 * @param range A parsed range.
 * @param address An address as text, or parsed.
 * @returns True if it is an address of the range's family inside it.
 */
export function cidrContains(
  range: Cidr,
  address: string | IpNumber | undefined,
): boolean {
  const ip = typeof address === "string" ? parseIp(address) : address;
  if (ip === undefined || ip.family !== range.family) return false;
  const hostBits = BigInt((range.family === 4 ? 32 : 128) - range.prefix);
  return (ip.value >> hostBits) << hostBits === range.network;
}
