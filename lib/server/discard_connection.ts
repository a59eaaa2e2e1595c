/**
 * Discard (RFC 863): read everything, answer nothing; the other half of a
 * one-way throughput test (chargen is the first).
 *
 * @module
 */

import type { StreamConn } from "../net/mod.ts";
import {
  echoConnection,
  type EchoConnectionOptions,
  type EchoResult,
} from "./echo_connection.ts";

/**
 * Reads `conn` until the peer half-closes, dropping the bytes, then
 * half-closes too. The plain echo loop's reading, limits and close
 * reasons, with the writes sent nowhere; `bytesEchoed` counts the bytes
 * read (and dropped).
 *
 * @param conn An open connection; the caller closes it.
 * @param options The plain loop's options.
 * @returns Bytes read and why it ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { discardConnection } from "./discard_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new Uint8Array(1000));
 * await client.closeWrite();
 * using conn = await listener.accept();
 * assert.deepEqual(await discardConnection(conn), { bytesEchoed: 1000, reason: "eof" });
 * assert.equal(await client.read(new Uint8Array(1)), null);
 * ```
 */
export function discardConnection(
  conn: StreamConn,
  options: EchoConnectionOptions = {},
): Promise<EchoResult> {
  const dropping: StreamConn = {
    read: (buffer) => conn.read(buffer),
    write: (bytes) => Promise.resolve(bytes.length),
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
    [Symbol.dispose]: () => conn[Symbol.dispose](),
  };
  return echoConnection(dropping, options);
}
