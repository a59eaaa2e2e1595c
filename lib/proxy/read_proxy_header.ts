/**
 * Reading the PROXY header at the start of an accepted connection, with a
 * deadline, before anything is echoed.
 *
 * Whether a header is to be believed is not decided here: the caller
 * knows who sent it (a trusted proxy or anyone) and asks either for a
 * header that must be there, or for one that may be there (`optional`),
 * recognised by the protocol's own signatures.
 *
 * @module
 */

import { closeOnAbort, IdleTimer, type StreamConn } from "../net/mod.ts";
import {
  parseProxyHeader,
  PROXY_V2_MAX_LENGTH,
  type ProxyAddress,
  startsLikeProxyHeader,
} from "./proxy_header.ts";

/** Options for {@linkcode readProxyHeader}. */
export interface ReadProxyHeaderOptions {
  /** The header must be complete within this long, in ms. */
  timeout: number;
  /** Aborting it closes the connection and ends the wait at once. */
  signal?: AbortSignal;
  /**
   * The connection may start without a header: bytes that do not begin
   * like one (`PROXY ` or the v2 signature) are returned as `rest`, with
   * `header: false`, as soon as they show it, and so is a connection that
   * ends before it could be one.
   * @default {false}
   */
  optional?: boolean;
}

/** What the header said, and what came after it. */
export interface ProxiedConnection {
  /** Whether a header was there (always true unless `optional`). */
  header: boolean;
  /**
   * The client; undefined for the proxy's own (`LOCAL`) connection, for
   * `UNKNOWN`, and when there was no header.
   */
  source: ProxyAddress | undefined;
  /** Bytes that followed the header (or all bytes read, without one). */
  rest: Uint8Array;
}

/** Why a connection was refused for its PROXY header. */
export class ProxyHeaderError extends Error {
  override name = "ProxyHeaderError";
}

/**
 * Reads and parses the PROXY header (v1 or v2) at the start of `conn`.
 * Reads at most the longest header the protocol allows; never echoes.
 *
 * @param conn A connection, before anything was read from it.
 * @param options The deadline, a signal that cuts it short, and whether
 * the header may be missing.
 * @returns The client's address and the bytes after the header.
 * @throws {ProxyHeaderError} For a missing (unless `optional`),
 * malformed, oversized or late header, or a connection that ends or is
 * aborted first; the caller closes `conn`.
 *
 * @example
 * ```ts
 * import { readProxyHeader } from "./read_proxy_header.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new TextEncoder().encode("PROXY TCP4 192.0.2.1 192.0.2.2 5000 7007\r\nhi"));
 * using conn = await listener.accept();
 * const proxied = await readProxyHeader(conn, { timeout: 1000 });
 * // proxied.source: { hostname: "192.0.2.1", port: 5000 }; proxied.rest: "hi"
 * ```
 */
export async function readProxyHeader(
  conn: StreamConn,
  options: ReadProxyHeaderOptions,
): Promise<ProxiedConnection> {
  const { timeout, signal, optional = false } = options;
  const buffer = new Uint8Array(PROXY_V2_MAX_LENGTH);
  let filled = 0;
  using deadline = new IdleTimer(timeout, () => conn.close());
  using _aborted = signal === undefined
    ? undefined
    : closeOnAbort(signal, conn);
  try {
    if (signal?.aborted) throw new ProxyHeaderError("shutting down");
    while (true) {
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) {
        if (optional) {
          // Ended before it could be a header: plain bytes (or none) to
          // echo.
          return {
            header: false,
            source: undefined,
            rest: buffer.slice(0, filled),
          };
        }
        throw new ProxyHeaderError("closed before a PROXY header");
      }
      filled += n;
      const bytes = buffer.subarray(0, filled);
      if (!startsLikeProxyHeader(bytes)) {
        if (optional) {
          return {
            header: false,
            source: undefined,
            rest: buffer.slice(0, filled),
          };
        }
        throw new ProxyHeaderError("no PROXY header");
      }
      const result = parseProxyHeader(bytes);
      if (result.kind === "invalid") throw new ProxyHeaderError(result.reason);
      if (result.kind === "header") {
        return {
          header: true,
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
      throw new ProxyHeaderError(`no PROXY header within ${timeout} ms`);
    }
    if (signal?.aborted) throw new ProxyHeaderError("shutting down");
    if (error instanceof ProxyHeaderError) throw error;
    throw new ProxyHeaderError(
      `connection failed before a PROXY header: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
