/**
 * A TLS listener whose connections can always be closed, even while their
 * handshake is pending, and that opens nothing but the port it listens on.
 *
 * `Deno.listenTls` cannot close a connection mid-handshake in Deno 2.9:
 * its TLS stream (rustls-tokio-stream 0.8) runs each handshake in a task
 * that owns the TCP socket, and dropping the stream only detaches that
 * task, so the socket stays open until the peer sends something or leaves
 * (experiments/tls_handshake_leak.ts reproduces it). A client that connects and
 * stays silent would keep a descriptor after `close()`, whatever deadline
 * the server sets.
 *
 * So the TCP socket is ours (`Deno.listen`), and TLS runs over it through
 * `node:tls` with an in-memory stream in between (see `_tls_over_tcp.ts`):
 * closing a connection closes its socket at once. We read the socket only
 * for a reader that wants bytes, because `node:tls` server sockets keep
 * decrypting while paused. An earlier version relayed clients to an
 * internal `Deno.listenTls` on loopback instead; any local program could
 * fill that listener's accept queue (blocking TLS for minutes), and every
 * connection left a TIME_WAIT socket on the internal hop.
 *
 * The cost, against `Deno.listenTls` (experiments/tls_pingpong_ab.ts, 50
 * connections ping-ponging 64 B): about half its round trips per second
 * and twice its CPU per round trip (the relay: about 0.4x and 2.9x), and
 * some 43 KiB per idle connection instead of 20 KiB (the relay: 32 KiB).
 *
 * Connections look like `Deno.TlsConn` to the echo loop: `read`, `write`,
 * `closeWrite`, `close`, `handshake`, and the client's own address. A
 * client's FIN without close_notify ends its input like close_notify does
 * (as in Node's TLS servers): what it truncates is the client's own data,
 * whose length the client knows.
 *
 * @module
 */

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import { serveTls, type TlsSessionInfo } from "./_tls_over_tcp.ts";
import type { StreamConn, StreamListener } from "./stream.ts";

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
  /**
   * Hand out connections before TLS starts ({@linkcode PlainBeforeTls}), so
   * that the caller can read what precedes the handshake: a PROXY header,
   * which load balancers in TCP mode send ahead of the client's TLS.
   * @default {false}
   */
  deferHandshake?: boolean;
}

/**
 * A connection from a listener with `deferHandshake`: plain bytes until
 * `startTls`, which hands the socket to TLS.
 */
export interface PlainBeforeTls extends StreamConn {
  /**
   * Starts TLS on this connection, which belongs to the result from now
   * on (close that, not this).
   *
   * @param initial Bytes already read that belong to the TLS stream.
   * @returns The TLS connection; its handshake starts at once.
   */
  startTls(initial: Uint8Array): TlsStreamConn;
}

export type { TlsSessionInfo };

/** A TLS connection from {@linkcode listenTls}. */
export interface TlsStreamConn extends StreamConn {
  /**
   * Resolves when the handshake is done, with the ALPN protocol and the
   * client's SNI; rejects if it fails.
   */
  handshake(): Promise<TlsSessionInfo>;
}

/**
 * Listens for TLS on `options.hostname:options.port`.
 *
 * @param options Address, certificate, key, ALPN.
 * @returns The listener, once bound.
 * @throws {TypeError} If the certificate or the key cannot be read, or the
 * key is not the certificate's.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 *
 * @example
 * ```ts
 * import { generateSelfSigned } from "../tls/mod.ts";
 * import { listenTls } from "./tls_listener.ts";
 * const { cert, key } = await generateSelfSigned(["127.0.0.1"]);
 * using listener = await listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
 * const { port } = listener.addr as Deno.NetAddr;
 * using client = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [cert] });
 * using conn = await listener.accept();
 * await Promise.all([conn.handshake(), client.handshake()]);
 * ```
 */
export function listenTls(
  options: ListenTlsOptions & { deferHandshake?: false },
): Promise<StreamListener<TlsStreamConn> & Disposable>;
export function listenTls(
  options: ListenTlsOptions & { deferHandshake: true },
): Promise<StreamListener<PlainBeforeTls> & Disposable>;
export function listenTls(
  options: ListenTlsOptions,
): Promise<StreamListener<TlsStreamConn | PlainBeforeTls> & Disposable>;
export function listenTls(
  options: ListenTlsOptions,
): Promise<StreamListener<TlsStreamConn | PlainBeforeTls> & Disposable> {
  let context: SecureContext;
  try {
    context = secureContext(options.cert, options.key);
  } catch (error) {
    return Promise.reject(error);
  }
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    ...(options.reusePort && { reusePort: true }),
  });
  return Promise.resolve(
    new TlsListener(
      listener,
      context,
      options.alpnProtocols,
      options.deferHandshake ?? false,
    ),
  );
}

/**
 * The certificate and key, checked now: `node:tls` would take anything and
 * fail every handshake instead (`Deno.listenTls` refused them at once).
 */
function secureContext(cert: string, key: string): SecureContext {
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new TypeError(`Invalid certificate: ${describe(error)}`);
  }
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TypeError(`Invalid private key: ${describe(error)}`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TypeError("The private key does not belong to the certificate");
  }
  return createSecureContext({ cert, key });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class TlsListener
  implements StreamListener<TlsStreamConn | PlainBeforeTls>, Disposable {
  readonly addr: Deno.Addr;
  readonly #listener: Deno.TcpListener;
  readonly #context: SecureContext;
  readonly #alpnProtocols: string[] | undefined;
  readonly #deferHandshake: boolean;

  constructor(
    listener: Deno.TcpListener,
    context: SecureContext,
    alpnProtocols: string[] | undefined,
    deferHandshake: boolean,
  ) {
    this.addr = listener.addr;
    this.#listener = listener;
    this.#context = context;
    this.#alpnProtocols = alpnProtocols;
    this.#deferHandshake = deferHandshake;
  }

  /**
   * The next client: its handshake starts at once, or with `startTls`
   * under `deferHandshake`.
   */
  async accept(): Promise<TlsStreamConn | PlainBeforeTls> {
    // A client reset before we got to it fails here like any accept error.
    const socket = await this.#listener.accept();
    try {
      // Without it, a record written while an earlier one is unacknowledged
      // (the first echo after the session tickets) waits for the client's
      // delayed ACK: 40 ms.
      socket.setNoDelay(true);
    } catch {
      // A socket that refuses it is broken already; its first read
      // reports that, as this connection's error rather than the listener's.
    }
    if (!this.#deferHandshake) {
      return serveTls(socket, this.#context, this.#alpnProtocols);
    }
    const context = this.#context;
    const alpnProtocols = this.#alpnProtocols;
    return Object.assign(socket, {
      startTls: (initial: Uint8Array): TlsStreamConn =>
        serveTls(socket, context, alpnProtocols, initial),
    });
  }

  close(): void {
    this.#listener.close();
  }

  [Symbol.dispose](): void {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}
