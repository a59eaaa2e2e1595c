/**
 * A TLS listener whose connections can always be closed, even while their
 * handshake is pending.
 *
 * `Deno.listenTls` cannot do that in Deno 2.9: its TLS stream
 * (rustls-tokio-stream 0.8) runs each handshake in a spawned task that owns
 * the TCP socket, and dropping the stream mid-handshake only detaches that
 * task, so the socket stays open until the peer sends something or leaves
 * (bench/tls_handshake_leak.ts reproduces it). A client that connects and
 * stays silent keeps a descriptor after `close()`, whatever deadline the
 * server sets. `node:tls` is no way out either: in Deno 2.9 its server
 * sockets keep reading while paused (unbounded memory for a peer that never
 * reads) and lose an end of stream that arrives while paused.
 *
 * So clients connect to a plain TCP socket, which we own and can close at
 * any time, and a relay copies their bytes to and from an internal
 * `Deno.listenTls` socket on loopback, where Deno's TLS runs. Closing a
 * connection closes the client's socket and the relay's end of the
 * internal one; the internal handshake then sees its peer leave and ends,
 * so every descriptor is released at once. The cost is the relay's copy
 * (see the README's "Hostile clients").
 *
 * Connections look like `Deno.TlsConn` to the echo loop: `read`, `write`,
 * `closeWrite`, `close`, `handshake`, and the client's own address.
 *
 * @module
 */

import { closeQuietly } from "./close_quietly.ts";
import type { StreamConn, StreamListener } from "./stream.ts";
import { writeAll } from "./write_all.ts";

/** Options for {@linkcode listenTls}. */
export interface ListenTlsOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM. */
  key: string;
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
  /** Set `SO_REUSEPORT` (for `--workers`). */
  reusePort?: boolean;
}

/** A TLS connection from {@linkcode listenTls}. */
export interface TlsStreamConn extends StreamConn {
  /** Resolves when the handshake is done; rejects if it fails. */
  handshake(): Promise<Deno.TlsHandshakeInfo>;
}

/**
 * Each direction of the relay copies through one buffer that starts at the
 * small size (an idle client pins it) and doubles while reads fill it, up
 * to one full TLS record and its overhead.
 */
const RELAY_BUFFER_MIN = 1024;
const RELAY_BUFFER_MAX = 32 * 1024;

/**
 * Listens for TLS on `options.hostname:options.port`.
 *
 * @param options Address, certificate, key, ALPN.
 * @returns The listener, once bound.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 *
 * @example
 * ```ts
 * import { listenTls } from "./tls_listener.ts";
 * const cert = await Deno.readTextFile("cert.pem");
 * const key = await Deno.readTextFile("key.pem");
 * using listener = await listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
 * const conn = await listener.accept();
 * await conn.handshake();
 * ```
 */
export function listenTls(
  options: ListenTlsOptions,
): Promise<StreamListener<TlsStreamConn> & Disposable> {
  const front = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    ...(options.reusePort && { reusePort: true }),
  });
  let back: Deno.TlsListener;
  try {
    back = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: options.cert,
      key: options.key,
      ...(options.alpnProtocols !== undefined &&
        { alpnProtocols: options.alpnProtocols }),
    });
  } catch (error) {
    front.close();
    return Promise.reject(error);
  }
  return Promise.resolve(new RelayedTlsListener(front, back));
}

class RelayedTlsListener implements StreamListener<TlsStreamConn>, Disposable {
  readonly addr: Deno.Addr;
  readonly #front: Deno.TcpListener;
  readonly #back: Deno.TlsListener;
  #closed = false;

  constructor(front: Deno.TcpListener, back: Deno.TlsListener) {
    this.addr = front.addr;
    this.#front = front;
    this.#back = back;
  }

  /**
   * The next client, relayed to the internal TLS listener. One call at a
   * time (as an accept loop makes them): the internal connection accepted
   * next is then this call's own relay socket, told apart from a stranger
   * who found the internal port by its port number.
   */
  async accept(): Promise<TlsStreamConn> {
    // A client reset before we got to it fails here like any accept error.
    const client = await this.#front.accept();
    let relay: Deno.TcpConn | undefined;
    try {
      relay = await Deno.connect({
        hostname: "127.0.0.1",
        port: this.#back.addr.port,
      });
      const port = relay.localAddr.port;
      while (true) {
        const tls = await this.#back.accept();
        if ((tls.remoteAddr as Deno.NetAddr).port === port) {
          return new RelayedTlsConn(client, relay, tls);
        }
        closeQuietly(tls); // another local program found the internal port
      }
    } catch (error) {
      closeQuietly(client);
      if (relay !== undefined) closeQuietly(relay);
      throw error;
    }
  }

  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Already closed");
    this.#closed = true;
    this.#front.close();
    this.#back.close();
  }

  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }
}

/**
 * One client: its socket, the relay's socket to the internal listener, and
 * the internal TLS connection that the echo loop reads and writes.
 */
class RelayedTlsConn implements TlsStreamConn {
  readonly localAddr: Deno.Addr;
  readonly remoteAddr: Deno.Addr;
  readonly #client: Deno.TcpConn;
  readonly #relay: Deno.TcpConn;
  readonly #tls: Deno.TlsConn;
  /** Settles when everything the TLS side wrote has reached the client. */
  readonly #toClient: Promise<void>;
  #closed = false;

  constructor(client: Deno.TcpConn, relay: Deno.TcpConn, tls: Deno.TlsConn) {
    this.localAddr = client.localAddr;
    this.remoteAddr = client.remoteAddr;
    this.#client = client;
    this.#relay = relay;
    this.#tls = tls;
    // Copy both ways until each side's end of input; an error ends both
    // copies, and the TLS connection then sees its peer (the relay) leave.
    copy(client, relay).catch(() => this.#closeRelay());
    this.#toClient = copy(relay, client).catch(() => this.#closeRelay());
  }

  /**
   * Completes the handshake. When it fails, TLS has answered with an alert
   * (to a plain-text client, say); the alert reaches the client before the
   * failure is reported, so the client can tell what went wrong.
   */
  async handshake(): Promise<Deno.TlsHandshakeInfo> {
    try {
      return await this.#tls.handshake();
    } catch (error) {
      closeQuietly(this.#tls); // its socket then ends, and the relay with it
      await this.#toClient;
      throw error;
    }
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#tls.read(buffer);
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#tls.write(bytes);
  }

  /**
   * Sends close_notify and half-closes, resolving once the relay has handed
   * everything (the close_notify included) to the client's socket, as a
   * plain `closeWrite` does. A client that does not read holds it up, like
   * any write to it; `close` ends the wait.
   */
  async closeWrite(): Promise<void> {
    await this.#tls.closeWrite();
    await this.#toClient;
  }

  /** Closes every socket of this connection at once. */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Already closed");
    this.#closed = true;
    closeQuietly(this.#tls);
    this.#closeRelay();
  }

  /** Closes both plain sockets: the client's and the relay's. */
  #closeRelay(): void {
    closeQuietly(this.#client);
    closeQuietly(this.#relay);
  }

  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }
}

/** Copies `from` to `to` until `from` ends, then half-closes `to`. */
async function copy(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  let buffer = new Uint8Array(RELAY_BUFFER_MIN);
  while (true) {
    const n = await from.read(buffer);
    if (n === null) break;
    await writeAll(to, buffer.subarray(0, n));
    if (n === buffer.length && buffer.length < RELAY_BUFFER_MAX) {
      buffer = new Uint8Array(buffer.length * 2);
    }
  }
  await to.closeWrite();
}
