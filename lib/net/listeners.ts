/**
 * Opening what the server listens on: one stream listener (TCP, TLS or a
 * Unix socket) and, with UDP, a datagram socket on the same port number,
 * as RFC 862 serves both on one port.
 *
 * @module
 */

import type { Endpoint } from "./address.ts";
import { closeQuietly } from "./close_quietly.ts";
import type { StreamListener } from "./stream.ts";
import { listenTls } from "./tls_listener.ts";
import { listenResettable } from "./resettable_listener.ts";
import { removeSocketOnExit, removeStaleSocket } from "./unix_socket.ts";

/** TLS material for the stream listener. */
export interface TlsSettings {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM. */
  key: string;
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
  /**
   * Whether connections must be closable while their handshake is pending
   * (for a handshake deadline): then TLS runs over sockets we own (see
   * tls_listener.ts); otherwise Deno's TLS listener serves them directly,
   * which is faster.
   * @default {false}
   */
  closableHandshakes?: boolean;
  /**
   * Connections come plain, to be read from before TLS starts (a PROXY
   * header): see `PlainBeforeTls` in tls_listener.ts. Implies our own
   * listener.
   * @default {false}
   */
  deferHandshake?: boolean;
}

/** What to listen on, for {@linkcode openListeners}. */
export interface ListenSettings {
  /** Host and port, or a Unix socket path. */
  endpoint: Endpoint;
  /** Open the stream listener (TCP, TLS or Unix). */
  stream: boolean;
  /** Open a UDP socket on the same host and port number. */
  udp: boolean;
  /** Set `SO_REUSEPORT` on the stream listener (for `--workers`). */
  reusePort: boolean;
  /** Serve TLS on the stream listener. */
  tls?: TlsSettings;
  /**
   * Plain TCP connections that can be reset (see resettable_listener.ts),
   * for `--reset-after`; ignored for TLS and Unix sockets.
   * @default {false}
   */
  resettable?: boolean;
}

/** The open listeners; disposing closes them and removes a socket file. */
export interface Listeners extends Disposable {
  /** The stream listener (TCP, TLS or Unix), if asked for. */
  stream: (StreamListener & Disposable) | undefined;
  /** The UDP socket, if asked for. */
  datagram: Deno.DatagramConn | undefined;
}

/**
 * Opens the listeners `settings` ask for. With a port of 0 and both
 * protocols, UDP takes the port the stream listener was given.
 *
 * @param settings Where and what to listen on.
 * @returns The listeners.
 * @throws {Deno.errors.AddrInUse} And the other listen errors; nothing is
 * left open when it throws.
 *
 * @example
 * ```ts
 * import { openListeners } from "./listeners.ts";
 * using listeners = await openListeners({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
 *   stream: true,
 *   udp: true,
 *   reusePort: false,
 * });
 * ```
 */
export async function openListeners(
  settings: ListenSettings,
): Promise<Listeners> {
  const { endpoint } = settings;
  const cleanup = new DisposableStack();
  try {
    let stream: (StreamListener & Disposable) | undefined;
    let port = endpoint.transport === "tcp" ? endpoint.port : 0;
    if (settings.stream) {
      stream = await listenStream(settings);
      cleanup.use(stream);
      if (endpoint.transport === "unix") {
        cleanup.use(removeSocketOnExit(endpoint.path));
      } else {
        port = (stream.addr as Deno.NetAddr).port;
      }
    }
    let datagram: Deno.DatagramConn | undefined;
    if (settings.udp) {
      if (endpoint.transport !== "tcp") {
        throw new TypeError("UDP needs a host and port, not a Unix socket");
      }
      const socket = Deno.listenDatagram({
        transport: "udp",
        hostname: endpoint.hostname,
        port,
      });
      datagram = socket;
      cleanup.defer(() => closeQuietly(socket));
    }
    const owned = cleanup.move();
    return {
      stream,
      datagram,
      [Symbol.dispose]: () => owned.dispose(),
    };
  } catch (error) {
    cleanup.dispose();
    throw error;
  }
}

async function listenStream(
  settings: ListenSettings,
): Promise<StreamListener & Disposable> {
  const { endpoint, tls } = settings;
  if (endpoint.transport === "unix") {
    await removeStaleSocket(endpoint.path);
    return Deno.listen(endpoint);
  }
  if (tls !== undefined) {
    const options = {
      hostname: endpoint.hostname,
      port: endpoint.port,
      cert: tls.cert,
      key: tls.key,
      reusePort: settings.reusePort,
      ...(tls.alpnProtocols !== undefined &&
        { alpnProtocols: tls.alpnProtocols }),
    };
    // Closable while handshaking, or read before TLS: over our own
    // sockets (see tls_listener.ts).
    return tls.closableHandshakes || tls.deferHandshake
      ? await listenTls({
        ...options,
        deferHandshake: tls.deferHandshake ?? false,
      })
      : Deno.listenTls(options);
  }
  if (settings.resettable) {
    return await listenResettable({
      ...endpoint,
      reusePort: settings.reusePort,
    });
  }
  return Deno.listen({ ...endpoint, reusePort: settings.reusePort });
}
