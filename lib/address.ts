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
