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

/**
 * The 16 bytes of an IPv6 address (an embedded IPv4 included, as in
 * `::ffff:127.0.0.1`).
 *
 * @param host An IPv6 address without brackets.
 * @returns Its bytes, or undefined if it is not an IPv6 address.
 *
 * @example
 * ```ts
 * import { ipv6Bytes } from "./address.ts";
 * ipv6Bytes("::1")?.[15]; // 1
 * ```
 */
export function ipv6Bytes(host: string): Uint8Array | undefined {
  let normalized: string;
  try {
    // The URL parser implements the IPv6 grammar and normalizes it: hex
    // groups, at most one "::", an embedded IPv4 rewritten as two groups.
    normalized = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = "", tail] = normalized.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array(zeros).fill("0"), ...right];
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

function isIpv6Address(host: string): boolean {
  // The URL parser implements the standard IPv6 grammar; reuse it.
  try {
    new URL(`http://[${host}]/`);
    return true;
  } catch {
    return false;
  }
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
  if ("path" in addr) return addr.path;
  if ("cid" in addr) return `vsock:${addr.cid}:${addr.port}`;
  const host = addr.hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  return host.includes(":") ? `[${host}]:${addr.port}` : `${host}:${addr.port}`;
}
