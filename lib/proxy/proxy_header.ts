/**
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2), which a
 * proxy or load balancer sends first on a connection to say who the client
 * really is: parsing it, detecting the version, and encoding it.
 *
 * @module
 */

import { ipv6Bytes, writeAll } from "../net/mod.ts";

/** An address from a PROXY header. */
export interface ProxyAddress {
  /** IPv4 or IPv6 address, IPv6 without brackets. */
  hostname: string;
  /** Port. */
  port: number;
}

/** What {@linkcode parseProxyHeader} makes of the first bytes. */
export type ProxyHeaderResult =
  /** A prefix of a header: read more. */
  | { kind: "incomplete" }
  /** Not a valid header (the reason is for the log). */
  | { kind: "invalid"; reason: string }
  /** A whole header of `length` bytes. */
  | {
    kind: "header";
    version: 1 | 2;
    length: number;
    /**
     * The client, for a proxied connection; absent for a v2 `LOCAL`
     * connection (the proxy's own health check) or `UNKNOWN`/`UNSPEC`.
     */
    source?: ProxyAddress;
    /** The address the client connected to, when given. */
    destination?: ProxyAddress;
  };

/** The v2 signature: the 12 bytes every v2 header starts with. */
export const PROXY_V2_SIGNATURE = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

const V1_PREFIX = new TextEncoder().encode("PROXY ");
/** The longest v1 header, CRLF included (spec: 107 bytes). */
const V1_MAX_LENGTH = 107;
/**
 * The longest v2 header we accept: the 16-byte head, IPv6 addresses and
 * up to 1 KiB of TLVs. Longer ones are refused as oversized.
 */
export const PROXY_V2_MAX_LENGTH = 16 + 36 + 1024;

/** Whether `bytes` starts like `prefix` for as far as both go. */
function startsLike(bytes: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * Parses a PROXY header (v1 or v2, detected) at the start of `bytes`.
 * Never throws, whatever the bytes.
 *
 * @param bytes The first bytes of a connection.
 * @returns `incomplete`, `invalid` with a reason, or the header.
 *
 * @example
 * ```ts
 * import { parseProxyHeader } from "./proxy_header.ts";
 * parseProxyHeader(new TextEncoder().encode("PROXY TCP4 10.0.0.1 10.0.0.2 5000 7007\r\nhi"));
 * // { kind: "header", version: 1, length: 41, source: { hostname: "10.0.0.1", port: 5000 }, … }
 * ```
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeaderResult {
  if (bytes.length === 0) return { kind: "incomplete" };
  if (startsLike(bytes, PROXY_V2_SIGNATURE)) {
    return bytes.length < 16 ? { kind: "incomplete" } : parseV2(bytes);
  }
  if (startsLike(bytes, V1_PREFIX)) return parseV1(bytes);
  return { kind: "invalid", reason: "no PROXY header" };
}

function parseV1(bytes: Uint8Array): ProxyHeaderResult {
  const limit = Math.min(bytes.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = 0; i + 1 < limit; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end === -1) {
    return bytes.length >= V1_MAX_LENGTH
      ? { kind: "invalid", reason: "v1 header longer than 107 bytes" }
      : { kind: "incomplete" };
  }
  const line = new TextDecoder("latin1").decode(bytes.subarray(0, end));
  const length = end + 2;
  const parts = line.split(" ");
  if (parts[1] === "UNKNOWN") return { kind: "header", version: 1, length };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) {
    return { kind: "invalid", reason: "malformed v1 header" };
  }
  const [, family, src, dst, srcPort, dstPort] = parts as string[];
  const ipv6 = family === "TCP6";
  const source = v1Address(src as string, srcPort as string, ipv6);
  const destination = v1Address(dst as string, dstPort as string, ipv6);
  if (source === undefined || destination === undefined) {
    return { kind: "invalid", reason: "malformed v1 address" };
  }
  return { kind: "header", version: 1, length, source, destination };
}

function v1Address(
  host: string,
  port: string,
  ipv6: boolean,
): ProxyAddress | undefined {
  const number = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(number >= 0 && number <= 65535)) return undefined;
  const valid = ipv6
    ? host.includes(":") && ipv6Bytes(host) !== undefined
    : /^(\d{1,3})(\.\d{1,3}){3}$/.test(host) &&
      host.split(".").every((octet) => Number(octet) <= 255);
  return valid ? { hostname: host, port: number } : undefined;
}

function parseV2(bytes: Uint8Array): ProxyHeaderResult {
  const versionCommand = bytes[12] as number;
  if (versionCommand >> 4 !== 2) {
    return { kind: "invalid", reason: "v2 header with a version other than 2" };
  }
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: "invalid", reason: "unknown v2 command" };
  const length = 16 + ((bytes[14] as number) << 8 | (bytes[15] as number));
  if (length > PROXY_V2_MAX_LENGTH) {
    return {
      kind: "invalid",
      reason: `v2 header of ${length} bytes is too large`,
    };
  }
  if (bytes.length < length) return { kind: "incomplete" };
  if (command === 0) return { kind: "header", version: 2, length }; // LOCAL
  const family = bytes[13] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset + 16, length - 16);
  if (family === 0x11 || family === 0x12) { // TCP or UDP over IPv4
    if (view.byteLength < 12) {
      return { kind: "invalid", reason: "v2 IPv4 addresses cut short" };
    }
    return {
      kind: "header",
      version: 2,
      length,
      source: { hostname: ipv4(bytes, 16), port: view.getUint16(8) },
      destination: { hostname: ipv4(bytes, 20), port: view.getUint16(10) },
    };
  }
  if (family === 0x21 || family === 0x22) { // TCP or UDP over IPv6
    if (view.byteLength < 36) {
      return { kind: "invalid", reason: "v2 IPv6 addresses cut short" };
    }
    return {
      kind: "header",
      version: 2,
      length,
      source: { hostname: ipv6(bytes, 16), port: view.getUint16(32) },
      destination: { hostname: ipv6(bytes, 32), port: view.getUint16(34) },
    };
  }
  // UNSPEC, Unix sockets: no usable client address; the connection stands.
  return { kind: "header", version: 2, length };
}

function ipv4(bytes: Uint8Array, at: number): string {
  return Array.from(bytes.subarray(at, at + 4)).join(".");
}

function ipv6(bytes: Uint8Array, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[at + i]! << 8) | bytes[at + i + 1]!).toString(16));
  }
  // Normalized the standard way (RFC 5952: the longest run of zeros as ::).
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/** The protocol version a client sends with `--send-proxy`. */
export type ProxyVersion = "v1" | "v2";

/**
 * Encodes a PROXY header for a TCP connection from `source` to
 * `destination`, both of one family.
 *
 * @param version `v1` (text) or `v2` (binary).
 * @param source The client's address.
 * @param destination The server's address.
 * @returns The header bytes, to send before anything else.
 *
 * @example
 * ```ts
 * import { encodeProxyHeader } from "./proxy_header.ts";
 * encodeProxyHeader("v1", { hostname: "10.0.0.1", port: 5000 }, { hostname: "10.0.0.2", port: 7007 });
 * ```
 */
export function encodeProxyHeader(
  version: ProxyVersion,
  source: ProxyAddress,
  destination: ProxyAddress,
): Uint8Array {
  const ipv6 = source.hostname.includes(":");
  if (version === "v1") {
    return new TextEncoder().encode(
      `PROXY ${
        ipv6 ? "TCP6" : "TCP4"
      } ${source.hostname} ${destination.hostname} ${source.port} ${destination.port}\r\n`,
    );
  }
  const addressLength = ipv6 ? 36 : 12;
  const header = new Uint8Array(16 + addressLength);
  header.set(PROXY_V2_SIGNATURE);
  header[12] = 0x21; // version 2, PROXY
  header[13] = ipv6 ? 0x21 : 0x11; // TCP over IPv6 / IPv4
  header[15] = addressLength;
  const view = new DataView(header.buffer);
  if (ipv6) {
    header.set(ipv6Bytes(source.hostname) ?? new Uint8Array(16), 16);
    header.set(ipv6Bytes(destination.hostname) ?? new Uint8Array(16), 32);
    view.setUint16(48, source.port);
    view.setUint16(50, destination.port);
  } else {
    header.set(source.hostname.split(".").map(Number), 16);
    header.set(destination.hostname.split(".").map(Number), 20);
    view.setUint16(24, source.port);
    view.setUint16(26, destination.port);
  }
  return header;
}

/**
 * Sends a PROXY header for `conn` (its own addresses) as the first bytes,
 * like a proxy in front of the server would.
 *
 * @param conn A new TCP connection.
 * @param version `v1` or `v2`.
 */
export async function sendProxyHeader(
  conn: Deno.Conn,
  version: ProxyVersion,
): Promise<void> {
  const local = conn.localAddr as Deno.NetAddr;
  const remote = conn.remoteAddr as Deno.NetAddr;
  await writeAll(
    conn,
    encodeProxyHeader(
      version,
      { hostname: local.hostname, port: local.port },
      { hostname: remote.hostname, port: remote.port },
    ),
  );
}
