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
 * Reads follow the reader: the socket is paused unless a `read` waits, so
 * a peer that is not read meets backpressure as with `Deno.Conn`, and at
 * most one chunk (64 KiB) waits here per connection.
 *
 * @module
 */

import net from "node:net";
import type { StreamConn, StreamListener } from "./stream.ts";

/** Accepted connections waiting for `accept()`, at most. */
const MAX_QUEUED = 128;

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
    // node:net accepts eagerly; the queue is bounded like a listen
    // backlog, and what does not fit is closed (as a full backlog drops).
    socket.on("error", () => {}); // until a NodeSocketConn listens
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
    async accept(): Promise<ResettableConn> {
      while (true) {
        if (closed) throw new Deno.errors.BadResource("Listener closed");
        const next = arrived.shift();
        if (next instanceof Error) throw next;
        if (next !== undefined) return new NodeSocketConn(next);
        waiting ??= Promise.withResolvers<void>();
        await waiting.promise;
      }
    },
    close,
    [Symbol.dispose]: close,
  };
}

/** A `node:net` socket as a `StreamConn`. */
class NodeSocketConn implements ResettableConn {
  readonly localAddr: Deno.NetAddr;
  readonly remoteAddr: Deno.NetAddr;
  readonly #socket: net.Socket;
  /** Bytes received and not yet read. */
  #pending: Uint8Array | undefined;
  #ended = false;
  #error: Error | undefined;
  #reader: PromiseWithResolvers<void> | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    socket.on("data", (chunk: Uint8Array) => {
      socket.pause();
      this.#pending = this.#pending === undefined
        ? chunk
        : concat(this.#pending, chunk);
      this.#wakeReader();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    socket.on("error", (error) => {
      this.#error = denoError(error);
      this.#wakeReader();
    });
    socket.on("close", () => {
      this.#error ??= new Deno.errors.BadResource("Connection closed");
      this.#wakeReader();
    });
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#pending === undefined) {
      if (this.#ended) return null;
      if (this.#error !== undefined) throw this.#error;
      this.#reader = Promise.withResolvers<void>();
      this.#socket.resume();
      await this.#reader.promise;
    }
    const chunk = this.#pending;
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    this.#pending = n < chunk.length ? chunk.subarray(n) : undefined;
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      // A copy: the caller may reuse its buffer once this resolves, and
      // node:net may still hold the chunk then.
      this.#socket.write(bytes.slice(), (error) => {
        if (error) reject(denoError(error));
        else resolve(bytes.length);
      });
    });
  }

  closeWrite(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) {
      return Promise.reject(new Deno.errors.BadResource("Connection closed"));
    }
    // `end`'s callback never comes if the socket is destroyed meanwhile:
    // its close settles the wait too.
    return new Promise((resolve, reject) => {
      const closed = () =>
        reject(this.#error ?? new Deno.errors.BadResource("Connection closed"));
      socket.once("close", closed);
      socket.end(() => {
        socket.off("close", closed);
        resolve();
      });
    });
  }

  close(): void {
    if (this.#socket.destroyed) {
      throw new Deno.errors.BadResource("Connection closed");
    }
    this.#socket.destroy();
  }

  reset(): void {
    this.#socket.resetAndDestroy();
  }

  [Symbol.dispose](): void {
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  #wakeReader(): void {
    this.#reader?.resolve();
    this.#reader = undefined;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function netAddr(
  hostname: string | undefined,
  port: number | undefined,
): Deno.NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/** A `node:net` error as the `Deno.errors` class the server classifies by. */
function denoError(error: Error): Error {
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
