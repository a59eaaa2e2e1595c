/**
 * A TLS server session on a `node:net` socket we accepted: `node:tls`
 * starts TLS on the socket itself (`new TLSSocket(socket, { isServer })`),
 * which in Deno 2.9 is the runtime's native TLS layer (rustls, in
 * TLSWrap) on the socket's own handle. Records never pass through
 * JavaScript, only the cleartext does; and destroying the socket frees its
 * descriptor at once, whatever the handshake is doing, which a
 * `Deno.listenTls` connection cannot (see tls_listener.ts).
 *
 * Flow control works around two flaws of that layer in Deno 2.9.6
 * (experiments/tls_native_upgrade.ts): pausing a `TLSSocket` does not stop
 * it reading the socket (it buffers whatever the peer sends, without
 * bound), and an end of input that arrives while it is paused is never
 * delivered. So the `TLSSocket` is never paused; the TCP handle under it
 * is stopped instead (`readStop`), so the peer's bytes wait in the kernel
 * and its window closes, as with any socket we do not read.
 * {@linkcode nativeTlsAvailable} checks at start that the runtime has that
 * handle; without it, tls_listener.ts keeps the older path.
 *
 * @module
 */

import net from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import { denoError, netAddr } from "./_node_listener.ts";
import { NodeSocketConn, type ReadControl } from "./_node_socket_conn.ts";
import type { StreamConn } from "./stream.ts";

/** What a finished handshake tells the server. */
export interface TlsSessionInfo extends Deno.TlsHandshakeInfo {
  /** The name the client asked for (SNI), if it sent one. */
  serverName?: string;
}

/** A TLS connection: a stream connection with a handshake to await. */
export interface TlsSession extends StreamConn {
  /** Resolves when the handshake is done; rejects if it fails. */
  handshake(): Promise<TlsSessionInfo>;
}

/**
 * Starts a TLS server session on `socket`, which belongs to the session
 * from now on.
 *
 * @param socket An accepted socket, paused; bytes already received (a
 *   client hello after a PROXY header) put back in front of its input.
 * @param context The certificate and key.
 * @param alpnProtocols ALPN protocols to offer, most preferred first.
 * @returns The session; its handshake starts at once.
 */
export function serveTls(
  socket: net.Socket,
  context: SecureContext,
  alpnProtocols: string[] | undefined,
): TlsSession {
  // The TCP socket's: a TLS socket's own may not be known yet.
  const addresses = {
    localAddr: netAddr(socket.localAddress, socket.localPort),
    remoteAddr: netAddr(socket.remoteAddress, socket.remotePort),
  };
  const tls = new TLSSocket(socket, {
    isServer: true,
    secureContext: context,
    ...(alpnProtocols !== undefined && { ALPNProtocols: alpnProtocols }),
  });
  return new TlsSocketConn(tls, addresses, tcpReadControl(tls));
}

/** The TCP handle under a `TLSSocket`, in Deno 2.9's `node:tls`. */
interface TcpHandle {
  readStart(): number;
  readStop(): number;
}

function tcpHandleOf(tls: TLSSocket): TcpHandle | undefined {
  const parent = (tls as unknown as { _handle?: { _parent?: unknown } })
    ._handle?._parent as Partial<TcpHandle> | undefined;
  return typeof parent?.readStart === "function" &&
      typeof parent.readStop === "function"
    ? parent as TcpHandle
    : undefined;
}

/** Stops and starts reading at the TCP handle (see the module doc). */
function tcpReadControl(tls: TLSSocket): ReadControl {
  return {
    stop: () => tcpHandleOf(tls)?.readStop(),
    start: () => tcpHandleOf(tls)?.readStart(),
  };
}

/**
 * Whether this runtime's `node:tls` has the TCP handle this file's flow
 * control needs (Deno 2.9 has); checked once, on a socket pair of our own.
 *
 * @returns True if TLS sessions may run on `node:net` sockets here.
 */
export async function nativeTlsAvailable(): Promise<boolean> {
  const server = net.createServer({ pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as net.AddressInfo;
    const accepted = new Promise<net.Socket>((resolve) =>
      server.once("connection", resolve)
    );
    const client = net.connect(port, "127.0.0.1");
    client.on("error", () => {});
    const socket = await accepted;
    const tls = new TLSSocket(socket, { isServer: true });
    tls.on("error", () => {});
    const available = tcpHandleOf(tls) !== undefined;
    tls.destroy();
    client.destroy();
    return available;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** A `node:tls` server socket as a {@linkcode TlsSession}. */
class TlsSocketConn extends NodeSocketConn implements TlsSession {
  readonly #handshake = Promise.withResolvers<TlsSessionInfo>();

  constructor(
    tls: TLSSocket,
    addresses: { localAddr: Deno.NetAddr; remoteAddr: Deno.NetAddr },
    control: ReadControl,
  ) {
    super(tls, addresses, control, false);
    const handshake = this.#handshake;
    const unfinished = () => {
      handshake.reject(
        new Deno.errors.UnexpectedEof(
          "The client closed the connection during the TLS handshake",
        ),
      );
      // A client that half-closes mid-handshake can never finish it.
      tls.destroy();
    };
    tls.once("secure", () => {
      tls.off("end", unfinished);
      const protocol = tls.alpnProtocol;
      // Set by node:tls on the server side, though its types lack it.
      const name: unknown = (tls as { servername?: unknown }).servername;
      handshake.resolve({
        alpnProtocol: typeof protocol === "string" ? protocol : null,
        ...(typeof name === "string" && name !== "" && { serverName: name }),
      });
    });
    tls.once("end", unfinished);
    tls.on("error", (error: Error) => handshake.reject(denoError(error)));
    tls.once("close", unfinished); // settles nothing once resolved
    handshake.promise.catch(() => {}); // reported by handshake()
  }

  /** Resolves when the handshake is done; rejects if it fails. */
  handshake(): Promise<TlsSessionInfo> {
    return this.#handshake.promise;
  }
}
