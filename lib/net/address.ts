/**
 * Ports and network addresses: validating them as typed and printing them
 * the way people paste them back (`[::1]:7007` for IPv6).
 *
 * @module
 */

/** The port both programs use when `--port` is not given. */
export const DEFAULT_PORT = 7007;

/** The host both programs use when `--host` is not given: loopback only. */
export const DEFAULT_HOST = "127.0.0.1";

/**
 * Where a server listens or a client connects: a host and port, or a Unix
 * domain socket. Shaped like Deno's own connect and listen options, so it
 * can be passed to `Deno.connect` and `Deno.listen` as it is.
 */
export type Endpoint =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** A host and the port typed with it, from {@linkcode splitHostPort}. */
export interface HostAndPort {
  /** The host, still as typed (brackets removed). */
  host: string;
  /** The port as typed, when the text had one. */
  port: string | undefined;
}

/** Options for {@linkcode parsePort}. */
export interface ParsePortOptions {
  /**
   * Whether `0` ("let the OS pick a free port") is acceptable. True for a
   * server; false for a client, which cannot connect to port 0.
   * @default {false}
   */
  allowZero?: boolean;
}

/**
 * Parses a TCP port number as typed on the command line.
 *
 * @param text The port as typed.
 * @param options Whether 0 is allowed.
 * @returns The port number.
 * @throws {RangeError} If `text` is not an integer in the allowed range.
 *
 * @example
 * ```ts
 * import { parsePort } from "./address.ts";
 * parsePort("0", { allowZero: true }); // 0
 * ```
 */
export function parsePort(
  text: string,
  options: ParsePortOptions = {},
): number {
  const min = options.allowZero ? 0 : 1;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= min && port <= 65535)) {
    throw new RangeError(
      `Invalid port "${text}": expected an integer from ${min} to 65535`,
    );
  }
  return port;
}

/**
 * Strips the brackets people put around IPv6 literals (`[::1]` → `::1`),
 * because `Deno.listen` wants the bare address.
 *
 * @param host A host name or address, bracketed or not.
 * @returns The host without surrounding brackets.
 *
 * @example
 * ```ts
 * import { normalizeHost } from "./address.ts";
 * normalizeHost("[::1]"); // "::1"
 * ```
 */
export function normalizeHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * Splits `HOST:PORT` as people type it: `localhost:7007`,
 * `127.0.0.1:7007`, `[::1]:7007`. A bare IPv6 address (`::1`) has no port:
 * its colons are part of the address, which is why IPv6 with a port needs
 * the brackets.
 *
 * @param text A host, optionally followed by `:PORT`.
 * @returns The host without brackets and the port text, if any.
 *
 * @example
 * ```ts
 * import { splitHostPort } from "./address.ts";
 * splitHostPort("[::1]:7007"); // { host: "::1", port: "7007" }
 * splitHostPort("::1"); // { host: "::1", port: undefined }
 * ```
 */
export function splitHostPort(text: string): HostAndPort {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] ?? "", port: bracketed[2] };
  const colon = text.indexOf(":");
  if (colon !== -1 && colon === text.lastIndexOf(":")) {
    return { host: text.slice(0, colon), port: text.slice(colon + 1) };
  }
  return { host: text, port: undefined };
}

/**
 * Validates a host as typed: a name, an IPv4 address, or an IPv6 address
 * with or without brackets. Anything with a colon must be a well-formed
 * IPv6 address, so typos fail here with a clear message instead of as an
 * unknown host later.
 *
 * @param text The host as typed.
 * @returns The host without brackets.
 * @throws {TypeError} For an empty host or a malformed IPv6 address.
 *
 * @example
 * ```ts
 * import { parseHost } from "./address.ts";
 * parseHost("[::1]"); // "::1"
 * ```
 */
export function parseHost(text: string): string {
  const host = normalizeHost(text);
  if (host === "") throw new TypeError("Empty host");
  if (host.includes(":") && !isIpv6Address(host)) {
    throw new TypeError(
      `Invalid IPv6 address "${text}": expected e.g. ::1 or [::1]`,
    );
  }
  return host;
}

/**
 * Whether `host` is an IP address (v4 or v6) rather than a name.
 *
 * @param host A host, without brackets.
 * @returns True for an IPv4 or IPv6 address.
 *
 * @example
 * ```ts
 * import { isIpAddress } from "./address.ts";
 * isIpAddress("::1"); // true
 * isIpAddress("localhost"); // false
 * ```
 */
export function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ||
    (host.includes(":") && isIpv6Address(host));
}

/** The longest IPv6 text: six full groups and a dotted quad. */
const IPV6_MAX_LENGTH = 45;

/**
 * The 4 bytes of an IPv4 address in strict dotted-quad form: four decimal
 * numbers from 0 to 255, without leading zeros (`010` could be octal to
 * some parsers, so it is refused; `0` alone is fine), separated by single
 * dots, and nothing else.
 *
 * @param text The address as written.
 * @returns Its bytes, or undefined if it is not in that form.
 *
 * @example
 * ```ts
 * import { ipv4Bytes } from "./address.ts";
 * ipv4Bytes("10.0.0.1"); // Uint8Array [10, 0, 0, 1]
 * ipv4Bytes("010.0.0.1"); // undefined
 * ```
 */
export function ipv4Bytes(text: string): Uint8Array | undefined {
  const octets = text.split(".");
  if (octets.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const octet = octets[i] as string;
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(octet)) return undefined;
    const value = Number(octet);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/**
 * The 16 bytes of an IPv6 address in the text form of RFC 4291 section
 * 2.2: groups of 1 to 4 hex digits separated by single colons, at most one
 * `::` standing for one or more zero groups, and optionally a dotted quad
 * (as {@linkcode ipv4Bytes} reads it) as the last 32 bits, as in
 * `::ffff:127.0.0.1`. Nothing else: no brackets, no zone id (`%eth0`), no
 * spaces.
 *
 * @param host An IPv6 address without brackets.
 * @returns Its bytes, or undefined if it is not an IPv6 address.
 *
 * @example
 * ```ts
 * import { ipv6Bytes } from "./address.ts";
 * ipv6Bytes("::1")?.[15]; // 1
 * ipv6Bytes("[::1]"); // undefined
 * ```
 */
export function ipv6Bytes(host: string): Uint8Array | undefined {
  if (host.length > IPV6_MAX_LENGTH) return undefined;
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  // Only the last group of the whole address may be a dotted quad.
  const head = ipv6Groups(halves[0] as string, !compressed);
  const tail = compressed ? ipv6Groups(halves[1] as string, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const given = head.length + tail.length;
  if (compressed ? given > 7 : given !== 8) return undefined;
  const groups = [...head, ...Array<number>(8 - given).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** The 16-bit groups of one side of `::`, or undefined if malformed. */
function ipv6Groups(
  text: string,
  mayEndInIpv4: boolean,
): number[] | undefined {
  if (text === "") return [];
  const pieces = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      groups.push(parseInt(piece, 16));
      continue;
    }
    const ipv4 = mayEndInIpv4 && i === pieces.length - 1
      ? ipv4Bytes(piece)
      : undefined;
    if (ipv4 === undefined) return undefined;
    groups.push(ipv4[0]! << 8 | ipv4[1]!, ipv4[2]! << 8 | ipv4[3]!);
  }
  return groups;
}

function isIpv6Address(host: string): boolean {
  return ipv6Bytes(host) !== undefined;
}

/**
 * Prints the bytes of an IP address the standard way: IPv4 as a dotted
 * quad; IPv6 as RFC 5952 says (lowercase, no leading zeros, the longest
 * run of two or more zero groups as `::`), except that an IPv4-mapped
 * address (`::ffff:a.b.c.d`) is printed as the IPv4 address it carries,
 * which is what the peer is.
 *
 * @param bytes 4 or 16 bytes, from {@linkcode ipv4Bytes} or
 * {@linkcode ipv6Bytes}.
 * @returns The address as text, IPv6 without brackets.
 * @throws {RangeError} If `bytes` is neither 4 nor 16 bytes long.
 *
 * @example
 * ```ts
 * import { formatIpBytes, ipv6Bytes } from "./address.ts";
 * formatIpBytes(ipv6Bytes("2001:DB8:0:0:0:0:0:1")!); // "2001:db8::1"
 * formatIpBytes(ipv6Bytes("::ffff:10.0.0.1")!); // "10.0.0.1"
 * ```
 */
export function formatIpBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) {
    throw new RangeError(
      `Invalid IP address: expected 4 or 16 bytes, got ${bytes.length}`,
    );
  }
  if (
    bytes.subarray(0, 10).every((byte) => byte === 0) &&
    bytes[10] === 0xff && bytes[11] === 0xff
  ) {
    return bytes.subarray(12).join(".");
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes[i]! << 8 | bytes[i + 1]!);
  // The first longest run of at least two zero groups becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      best = i;
      bestLength = end - i;
    }
    i = end === i ? i + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best === -1) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${
    hex.slice(best + bestLength).join(":")
  }`;
}

/**
 * Whether `host` is a loopback address or name: reachable from this
 * machine only.
 *
 * @param host A host name or address, without brackets.
 * @returns True for 127.0.0.0/8, ::1, ::ffff:127.x and localhost.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./address.ts";
 * isLoopback("127.0.0.2"); // true
 * isLoopback("0.0.0.0"); // false
 * ```
 */
export function isLoopback(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i
    .test(host);
}

/**
 * Formats a host and port as `host:port`, bracketing IPv6 addresses and
 * showing IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) as plain IPv4,
 * which is what the peer actually is.
 *
 * @param addr A network address, e.g. `listener.addr` or `conn.remoteAddr`.
 * @returns The printable address.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 * formatAddress({ transport: "tcp", hostname: "::1", port: 7007 }); // "[::1]:7007"
 * ```
 */
export function formatAddress(addr: Deno.Addr): string {
  // A Unix-socket client is usually unnamed: Deno gives its path as null.
  if ("path" in addr) return (addr.path as string | null) ?? "unix";
  if ("cid" in addr) return `vsock:${addr.cid}:${addr.port}`;
  const host = addr.hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  return host.includes(":") ? `[${host}]:${addr.port}` : `${host}:${addr.port}`;
}
