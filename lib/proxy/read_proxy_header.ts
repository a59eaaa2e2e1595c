/**
 * Reading the PROXY header at the start of an accepted connection, with a
 * deadline, before anything is echoed.
 *
 * @module
 */

import { IdleTimer, type StreamConn } from "../net/mod.ts";
import {
  parseProxyHeader,
  PROXY_V2_MAX_LENGTH,
  type ProxyAddress,
} from "./proxy_header.ts";

/** What the header said, and what came after it. */
export interface ProxiedConnection {
  /** The client; undefined for the proxy's own (`LOCAL`) connection. */
  source: ProxyAddress | undefined;
  /** Bytes that followed the header in the same reads: echo them first. */
  rest: Uint8Array;
}

/** Why a connection was refused for its PROXY header. */
export class ProxyHeaderError extends Error {
  override name = "ProxyHeaderError";
}

/**
 * Reads and parses the PROXY header (v1 or v2) that must start `conn`.
 * Reads at most the longest header the protocol allows; never echoes.
 *
 * @param conn A connection from a proxy.
 * @param timeoutMs The header must be complete within this long.
 * @returns The client's address and the bytes after the header.
 * @throws {ProxyHeaderError} For a missing, malformed, oversized or late
 * header, or a connection that ends first; the caller closes `conn`.
 */
export async function readProxyHeader(
  conn: StreamConn,
  timeoutMs: number,
): Promise<ProxiedConnection> {
  const buffer = new Uint8Array(PROXY_V2_MAX_LENGTH);
  let filled = 0;
  using deadline = new IdleTimer(timeoutMs, () => conn.close());
  try {
    while (true) {
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) {
        throw new ProxyHeaderError("closed before a PROXY header");
      }
      filled += n;
      const result = parseProxyHeader(buffer.subarray(0, filled));
      if (result.kind === "invalid") throw new ProxyHeaderError(result.reason);
      if (result.kind === "header") {
        return {
          source: result.source,
          rest: buffer.slice(result.length, filled),
        };
      }
      if (filled === buffer.length) {
        throw new ProxyHeaderError("PROXY header too large");
      }
    }
  } catch (error) {
    if (deadline.expired) {
      throw new ProxyHeaderError(`no PROXY header within ${timeoutMs} ms`);
    }
    if (error instanceof ProxyHeaderError) throw error;
    throw new ProxyHeaderError(
      `connection failed before a PROXY header: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
