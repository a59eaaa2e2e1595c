/**
 * A TCP listener of `node:net` sockets, for connections that need what
 * `Deno.Conn` lacks: a reset (`SO_LINGER` 0), or TLS started on the
 * server's side of an accepted socket.
 *
 * `node:net` accepts eagerly; the queue of accepted sockets waiting for
 * `accept()` is bounded like a listen backlog, and what does not fit is
 * closed (as a full backlog drops).
 *
 * @module
 */

import net from "node:net";

/** Accepted connections waiting for `accept()`, at most. */
const MAX_QUEUED = 128;

/** Where a {@linkcode NodeListener} listens. */
export interface NodeListenOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Set `SO_REUSEPORT` (for `--workers`). */
  reusePort?: boolean;
}

/** A listener of paused `node:net` sockets. */
export interface NodeListener extends Disposable {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /**
   * The next socket, paused (with an error listener that drops errors
   * until its new owner listens); rejects with `Deno.errors.BadResource`
   * once closed, and with a failed accept's error.
   */
  accept(): Promise<net.Socket>;
  /** Stops listening and closes the sockets not yet accepted. */
  close(): void;
}

/**
 * Listens on TCP for `node:net` sockets.
 *
 * @param options Where to listen.
 * @returns The listener, once bound.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 */
export async function listenNodeSockets(
  options: NodeListenOptions,
): Promise<NodeListener> {
  const server = net.createServer({
    pauseOnConnect: true,
    allowHalfOpen: true,
  });
  const arrived: (net.Socket | Error)[] = [];
  let waiting: PromiseWithResolvers<void> | undefined;
  let closed = false;
  const wake = () => {
    waiting?.resolve();
    waiting = undefined;
  };
  server.on("connection", (socket: net.Socket) => {
    socket.on("error", () => {}); // until its owner listens
    if (closed || arrived.length >= MAX_QUEUED) {
      socket.destroy();
      return;
    }
    arrived.push(socket);
    wake();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(denoError(error)));
    server.listen({
      host: options.hostname,
      port: options.port,
      reusePort: options.reusePort ?? false,
    } as net.ListenOptions, () => resolve());
  });
  // After listening, an error is a failed accept: handed to `accept()`.
  server.on("error", (error) => {
    arrived.push(denoError(error));
    wake();
  });
  const address = server.address() as net.AddressInfo;
  const close = () => {
    if (closed) return;
    closed = true;
    server.close();
    for (const item of arrived) {
      if (!(item instanceof Error)) item.destroy();
    }
    arrived.length = 0;
    wake();
  };
  return {
    addr: netAddr(address.address, address.port),
    async accept(): Promise<net.Socket> {
      while (true) {
        if (closed) throw new Deno.errors.BadResource("Listener closed");
        const next = arrived.shift();
        if (next instanceof Error) throw next;
        if (next !== undefined) return next;
        waiting ??= Promise.withResolvers<void>();
        await waiting.promise;
      }
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * An address as `Deno.NetAddr`.
 *
 * @param hostname The host, as `node:net` gives it.
 * @param port The port.
 * @returns The address.
 */
export function netAddr(
  hostname: string | undefined,
  port: number | undefined,
): Deno.NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/**
 * A `node:net` error as the `Deno.errors` class the server classifies by.
 *
 * @param error The error.
 * @returns The same error, or its `Deno.errors` equivalent.
 */
export function denoError(error: Error): Error {
  const code = (error as { code?: string }).code;
  const kinds: Record<string, new (message: string) => Error> = {
    ECONNRESET: Deno.errors.ConnectionReset,
    ECONNABORTED: Deno.errors.ConnectionAborted,
    EPIPE: Deno.errors.BrokenPipe,
    EADDRINUSE: Deno.errors.AddrInUse,
    EADDRNOTAVAIL: Deno.errors.AddrNotAvailable,
    EACCES: Deno.errors.PermissionDenied,
  };
  const kind = code === undefined ? undefined : kinds[code];
  return kind === undefined ? error : new kind(error.message);
}
