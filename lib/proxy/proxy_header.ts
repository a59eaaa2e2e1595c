/**
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2), which a
 * proxy or load balancer sends first on a connection to say who the client
 * really is: parsing it, detecting the version, and encoding it.
 *
 * @module
 */

import { formatIpBytes, ipv4Bytes, ipv6Bytes, writeAll } from "../net/mod.ts";

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

/**
 * Whether `bytes` begin like a PROXY header of either version, for as far
 * as they go: the two signatures are how the protocol tells a header from
 * data.
 *
 * @param bytes The first bytes of a connection (or of an echo).
 * @returns True if a header could start so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startsLikeProxyHeader } from "./proxy_header.ts";
 * assert.ok(startsLikeProxyHeader(new TextEncoder().encode("PROX")));
 * assert.ok(!startsLikeProxyHeader(new TextEncoder().encode("hello")));
 * ```
 */
export function startsLikeProxyHeader(bytes: Uint8Array): boolean {
  return startsLike(bytes, V1_PREFIX) || startsLike(bytes, PROXY_V2_SIGNATURE);
}

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
 * Whether a header is believed at all is the caller's decision (only from
 * a trusted proxy); this parser trusts none of the bytes either way. It
 * follows the spec's grammar strictly, so an address it returns is a
 * valid IP address in canonical form (IPv6 per RFC 5952, IPv4-mapped as
 * IPv4), safe to log and to compare, and an `invalid` reason never quotes
 * the sender's bytes.
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

/**
 * The v1 grammar, from HAProxy's spec (section 2.1), read strictly:
 *
 *     "PROXY" SP ( "TCP4" SP ipv4 SP ipv4 | "TCP6" SP ipv6 SP ipv6 ) SP port SP port CRLF
 *     "PROXY" SP "UNKNOWN" [ SP *printable ] CRLF
 *
 * with single spaces, addresses as {@linkcode ipv4Bytes} and
 * {@linkcode ipv6Bytes} read them, ports decimal 0-65535 without leading
 * zeros, and only printable ASCII before the CRLF (what follows `UNKNOWN`
 * is ignored, as the spec says, but must be printable too).
 */
function parseV1(bytes: Uint8Array): ProxyHeaderResult {
  const limit = Math.min(bytes.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const byte = bytes[i] as number;
    if (byte >= 0x20 && byte <= 0x7e) continue;
    if (byte !== 0x0d || (i + 1 < bytes.length && bytes[i + 1] !== 0x0a)) {
      return { kind: "invalid", reason: "v1 header with a non-printable byte" };
    }
    if (i + 2 > V1_MAX_LENGTH) break; // the LF would be byte 108
    if (i + 1 === bytes.length) return { kind: "incomplete" };
    end = i;
    break;
  }
  if (end === -1) {
    return bytes.length >= V1_MAX_LENGTH
      ? { kind: "invalid", reason: "v1 header longer than 107 bytes" }
      : { kind: "incomplete" };
  }
  // Printable ASCII only, checked above, so latin1 decodes byte for byte.
  const line = new TextDecoder("latin1").decode(bytes.subarray(0, end));
  const length = end + 2;
  if (line === "PROXY UNKNOWN" || line.startsWith("PROXY UNKNOWN ")) {
    return { kind: "header", version: 1, length };
  }
  const parts = line.split(" ");
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) {
    return { kind: "invalid", reason: "malformed v1 header" };
  }
  const [, family, src, dst, srcPort, dstPort] = parts as string[];
  const parse = family === "TCP6" ? ipv6Bytes : ipv4Bytes;
  const source = v1Address(parse(src as string), srcPort as string);
  const destination = v1Address(parse(dst as string), dstPort as string);
  if (source === undefined || destination === undefined) {
    return { kind: "invalid", reason: "malformed v1 address" };
  }
  return { kind: "header", version: 1, length, source, destination };
}

function v1Address(
  host: Uint8Array | undefined,
  port: string,
): ProxyAddress | undefined {
  if (host === undefined || !/^(?:0|[1-9][0-9]{0,4})$/.test(port)) {
    return undefined;
  }
  const number = Number(port);
  return number <= 65535
    ? { hostname: formatIpBytes(host), port: number }
    : undefined;
}

/**
 * The v2 address family and transport bytes the spec defines (section
 * 2.2): UNSPEC, then TCP and UDP over IPv4, IPv6 and Unix sockets. The
 * spec says receivers must reject any other value.
 */
const V2_FAMILIES = new Set([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]);

/** Bytes of addresses each v2 family carries (Unix: two 108-byte paths). */
const V2_ADDRESS_LENGTH: Record<number, number> = {
  0x1: 12,
  0x2: 36,
  0x3: 216,
};

function parseV2(bytes: Uint8Array): ProxyHeaderResult {
  const versionCommand = bytes[12] as number;
  if (versionCommand >> 4 !== 2) {
    return { kind: "invalid", reason: "v2 header with a version other than 2" };
  }
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: "invalid", reason: "unknown v2 command" };
  const family = bytes[13] as number;
  if (!V2_FAMILIES.has(family)) {
    return {
      kind: "invalid",
      reason: "unknown v2 address family or transport protocol",
    };
  }
  const length = 16 + ((bytes[14] as number) << 8 | (bytes[15] as number));
  if (length > PROXY_V2_MAX_LENGTH) {
    return {
      kind: "invalid",
      reason: `v2 header of ${length} bytes is too large`,
    };
  }
  if (bytes.length < length) return { kind: "incomplete" };
  // LOCAL: the proxy's own connection (a health check); its addresses count.
  if (command === 0) return { kind: "header", version: 2, length };
  const addressLength = V2_ADDRESS_LENGTH[family >> 4] ?? 0;
  if (length - 16 < addressLength) {
    return { kind: "invalid", reason: "v2 addresses cut short" };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + 16, length - 16);
  if (family >> 4 === 0x1) {
    return {
      kind: "header",
      version: 2,
      length,
      source: v2Address(bytes.subarray(16, 20), view.getUint16(8)),
      destination: v2Address(bytes.subarray(20, 24), view.getUint16(10)),
    };
  }
  if (family >> 4 === 0x2) {
    return {
      kind: "header",
      version: 2,
      length,
      source: v2Address(bytes.subarray(16, 32), view.getUint16(32)),
      destination: v2Address(bytes.subarray(32, 48), view.getUint16(34)),
    };
  }
  // UNSPEC or Unix sockets: no client address; the spec lets the
  // connection stand, with its own addresses.
  return { kind: "header", version: 2, length };
}

function v2Address(host: Uint8Array, port: number): ProxyAddress {
  // An IPv4-mapped IPv6 address comes out as the IPv4 address it carries.
  return { hostname: formatIpBytes(host), port };
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
