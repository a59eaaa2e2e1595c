/**
 * A TCP listener whose connections can be reset: closed with RST instead
 * of FIN, which `--reset-after` needs and `Deno.Conn` cannot do.
 *
 * `Deno.Conn.close()` always sends FIN first: Deno splits each TCP stream
 * into tokio read and write halves, and dropping the write half shuts it
 * down (`shutdown(SHUT_WR)`) before the socket is closed. Even with unread
 * input, which makes the kernel send RST, the peer reads EOF first and
 * never sees the reset. Deno has no `SO_LINGER` either. Its `node:net`
 * sockets do (`resetAndDestroy()` sets `SO_LINGER` to 0), so these
 * connections are `node:net` sockets behind the `StreamConn` interface.
 *
 * @module
 */

import { listenNodeSockets } from "./_node_listener.ts";
import { NodeSocketConn } from "./_node_socket_conn.ts";
import type { StreamConn, StreamListener } from "./stream.ts";

/** A connection that can end with a reset. */
export interface ResettableConn extends StreamConn {
  /** Closes the connection with RST (`SO_LINGER` 0): the peer gets ECONNRESET. */
  reset(): void;
}

/** Options for {@linkcode listenResettable}. */
export interface ListenResettableOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Set `SO_REUSEPORT` (for `--workers`). */
  reusePort?: boolean;
}

/**
 * Listens on TCP with connections that can be reset.
 *
 * @param options Where to listen.
 * @returns The listener.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 *
 * @example
 * ```ts
 * import { listenResettable } from "./resettable_listener.ts";
 * using listener = await listenResettable({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * using client = await Deno.connect({ hostname: "127.0.0.1", port });
 * using conn = await listener.accept();
 * conn.reset();
 * await client.read(new Uint8Array(1)).catch((error) => error); // ConnectionReset
 * ```
 */
export async function listenResettable(
  options: ListenResettableOptions,
): Promise<StreamListener<ResettableConn> & Disposable> {
  const listener = await listenNodeSockets(options);
  return {
    addr: listener.addr,
    async accept(): Promise<ResettableConn> {
      return new NodeSocketConn(await listener.accept());
    },
    close: () => listener.close(),
    [Symbol.dispose]: () => listener.close(),
  };
}
