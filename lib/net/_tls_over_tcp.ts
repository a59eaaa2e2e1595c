/**
 * A TLS server session run over a TCP socket that we keep: `node:tls`'s
 * TLS engine (a `TLSSocket` with `isServer`) sees only an in-memory stream
 * that this file feeds from the socket and drains into it. The socket is a
 * plain `Deno.TcpConn`, so closing it always frees it, at once, whatever
 * the handshake is doing.
 *
 * Flow control is ours, not the TLS layer's (in Deno 2.9 it keeps
 * decrypting while paused): the socket is read only while the handshake
 * runs or while `read` waits with nothing decrypted, so what is held per
 * connection is at most one socket read ahead of the reader. A cleartext
 * write settles when the TLS layer reports it done, which it does only
 * after its records have been written to the socket, so a client that
 * does not read stops the writer.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";
import { closeQuietly } from "./close_quietly.ts";
import type { StreamConn } from "./stream.ts";

/**
 * Socket reads start small (an idle client pins the buffer of its pending
 * read) and double while reads fill them, up to two full TLS records.
 */
const INPUT_BUFFER_MIN = 1024;
const INPUT_BUFFER_MAX = 32 * 1024;

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
 * The ciphertext stream between the TLS engine and the socket. The TLS
 * layer destroys it as soon as it is done with it, which can be before its
 * last records (the alert after a failed handshake, a close_notify) have
 * been handed over; so its `destroy` only records that, and the stream is
 * destroyed for real when the connection is closed.
 */
class Transport extends Duplex {
  readonly #send: (chunk: Uint8Array, done: () => void) => void;

  constructor(send: (chunk: Uint8Array, done: () => void) => void) {
    super({ allowHalfOpen: true });
    this.#send = send;
  }

  // The socket is read by the session, which pushes what it gets.
  override _read(): void {}

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#send(chunk, () => callback());
  }

  override destroy(): this {
    return this;
  }

  /** Destroys the stream (the TLS layer's `destroy` is a no-op). */
  release(): void {
    super.destroy();
  }
}

/**
 * Serves TLS on `socket`, which it owns from now on.
 *
 * @param socket An accepted TCP connection.
 * @param context The server's certificate and key.
 * @param alpnProtocols ALPN protocols to offer, most preferred first.
 * @param initial Bytes already read from the socket (after a PROXY
 * header): the start of the client's TLS input.
 * @returns The session; its handshake starts at once.
 */
export function serveTls(
  socket: Deno.TcpConn,
  context: SecureContext,
  alpnProtocols: string[] | undefined,
  initial?: Uint8Array,
): TlsSession {
  return new TlsOverTcp(socket, context, alpnProtocols, initial);
}

class TlsOverTcp implements TlsSession {
  readonly localAddr: Deno.Addr;
  readonly remoteAddr: Deno.Addr;
  readonly #socket: Deno.TcpConn;
  readonly #transport: Transport;
  readonly #tls: TLSSocket;
  readonly #handshake = Promise.withResolvers<TlsSessionInfo>();
  #handshaking = true;
  /** Decrypted bytes not yet read, oldest first; `#head` is being read. */
  readonly #received: Uint8Array[] = [];
  #head: Uint8Array | undefined;
  /** The client's end of input (close_notify, or its socket's FIN). */
  #ended = false;
  /** The first error of the socket or of TLS; every call reports it. */
  #error: unknown;
  #closed = false;
  /** A `read` waiting for bytes, the end or an error. */
  #reader: PromiseWithResolvers<void> | undefined;
  /** The socket reader waiting for a `read` to want input. */
  #inputWanted: PromiseWithResolvers<void> | undefined;
  /** Writes to the socket started, and those not finished. */
  #sends = 0;
  #sending = 0;
  /** A wait for the socket writes to finish. */
  #sent: PromiseWithResolvers<void> | undefined;
  /** Cleartext writes not yet settled, to fail on close or error. */
  readonly #writes = new Set<(error?: unknown) => void>();

  constructor(
    socket: Deno.TcpConn,
    context: SecureContext,
    alpnProtocols: string[] | undefined,
    initial: Uint8Array | undefined,
  ) {
    this.localAddr = socket.localAddr;
    this.remoteAddr = socket.remoteAddr;
    this.#socket = socket;
    this.#transport = new Transport((chunk, done) => this.#send(chunk, done));
    const tls = new TLSSocket(this.#transport as unknown as Socket, {
      isServer: true,
      secureContext: context,
      ...(alpnProtocols !== undefined && { ALPNProtocols: alpnProtocols }),
    });
    this.#tls = tls;
    tls.on("secure", () => {
      this.#handshaking = false;
      const protocol = tls.alpnProtocol;
      // Set by node:tls on the server side, though its types lack it.
      const name: unknown = (tls as { servername?: unknown }).servername;
      this.#handshake.resolve({
        alpnProtocol: typeof protocol === "string" ? protocol : null,
        ...(typeof name === "string" && name !== "" && { serverName: name }),
      });
    });
    tls.on("data", (chunk: Buffer) => {
      this.#received.push(
        new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      this.#wakeReader();
    });
    tls.on("end", () => {
      this.#ended = true;
      if (this.#handshaking) {
        this.#fail(
          new Deno.errors.UnexpectedEof(
            "The client closed the connection during the TLS handshake",
          ),
        );
      }
      this.#wakeReader();
    });
    tls.on("error", (error: Error) => this.#fail(error));
    // A TLSSocket not made by tls.Server reports errors after the
    // handshake (a bad record MAC, a plaintext alert, too many KeyUpdates)
    // only as `_tlsError`: without this the session would stay open, its
    // socket read and the input buffered without bound.
    tls.on("_tlsError", (error: Error) => this.#fail(error));
    this.#handshake.promise.catch(() => {}); // reported by handshake()
    this.#receive(initial);
  }

  /**
   * Completes the handshake. When it fails, TLS has answered with an alert
   * (to a plain-text client, say); the alert reaches the client before the
   * failure is reported, so the client can tell what went wrong.
   */
  async handshake(): Promise<TlsSessionInfo> {
    try {
      return await this.#handshake.promise;
    } catch (error) {
      if (!this.#closed) await this.#allSent();
      throw error;
    }
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (true) {
      const head = this.#head ?? this.#received.shift();
      if (head !== undefined) {
        const n = Math.min(head.length, buffer.length);
        buffer.set(n === head.length ? head : head.subarray(0, n));
        this.#head = n === head.length ? undefined : head.subarray(n);
        return n;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      this.#reader = Promise.withResolvers();
      this.#inputWanted?.resolve();
      await this.#reader.promise;
    }
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown) => {
        if (!this.#writes.delete(settle)) return;
        if (error === undefined) resolve(bytes.length);
        else reject(error);
      };
      this.#writes.add(settle);
      // The TLS layer has copied `bytes` (encrypted them) by the time it
      // reports the write done, so the caller may reuse them after.
      this.#tls.write(bytes, (error) => settle(error ?? this.#error));
    });
  }

  /**
   * Sends close_notify and half-closes the socket, resolving once both
   * are written, as a plain `closeWrite` does. A client that does not read
   * holds it up, like any write to it; `close` ends the wait.
   */
  async closeWrite(): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    // Every record written so far has been handed to the socket (a write
    // settles only then); the next one is the close_notify.
    const before = this.#sends;
    await new Promise<void>((resolve, reject) =>
      this.#tls.end((error?: Error | null) => error ? reject(error) : resolve())
    );
    while (this.#sends === before || this.#sending > 0) {
      if (this.#error !== undefined) throw this.#error;
      this.#sent = Promise.withResolvers();
      await this.#sent.promise;
    }
    await this.#socket.closeWrite();
  }

  /** Closes the socket and drops the TLS state, at once. */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Already closed");
    this.#closed = true;
    closeQuietly(this.#socket);
    this.#fail(new Deno.errors.BadResource("The connection is closed"));
    this.#tls.destroy();
    this.#transport.release();
  }

  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /**
   * Reads the socket into the TLS engine while the handshake runs or a
   * `read` waits, until the client's end of input or an error.
   */
  async #receive(initial: Uint8Array | undefined): Promise<void> {
    let buffer = new Uint8Array(INPUT_BUFFER_MIN);
    try {
      // The TLS socket starts on the next tick. Input before that (bytes
      // read with a PROXY header, or already queued on the socket) can
      // fail the handshake and close the connection before it has started,
      // which the TLS layer does not survive: one packet killed the serving
      // thread. A timer runs after every pending tick.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.#error !== undefined) return;
      if (initial !== undefined && initial.length > 0) {
        this.#transport.push(initial);
      }
      while (this.#error === undefined) {
        if (!this.#handshaking && this.#reader === undefined) {
          this.#inputWanted = Promise.withResolvers();
          await this.#inputWanted.promise;
          this.#inputWanted = undefined;
          if (this.#error !== undefined) return;
        }
        const n = await this.#socket.read(buffer);
        if (this.#error !== undefined) return; // closed meanwhile
        if (n === null) {
          this.#transport.push(null);
          return;
        }
        this.#transport.push(buffer.slice(0, n));
        if (n === buffer.length && buffer.length < INPUT_BUFFER_MAX) {
          buffer = new Uint8Array(buffer.length * 2);
        }
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Writes one chunk of records to the socket, then calls `done`. */
  async #send(chunk: Uint8Array, done: () => void): Promise<void> {
    this.#sends++;
    this.#sending++;
    try {
      // Written even after a TLS error: that is how its alert goes out.
      let written = 0;
      while (written < chunk.length) {
        written += await this.#socket.write(chunk.subarray(written));
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#sending--;
      done();
      if (this.#sending === 0) this.#sent?.resolve();
    }
  }

  /** Resolves once every socket write started so far has finished. */
  async #allSent(): Promise<void> {
    // The TLS layer hands records over in a microtask after producing them.
    await Promise.resolve();
    while (this.#sending > 0) {
      this.#sent = Promise.withResolvers();
      await this.#sent.promise;
    }
  }

  #wakeReader(): void {
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.resolve();
  }

  /** Records the first error and wakes everything waiting. */
  #fail(error: unknown): void {
    if (this.#error === undefined) this.#error = error;
    this.#handshake.reject(this.#error);
    this.#wakeReader();
    this.#inputWanted?.resolve();
    this.#sent?.resolve();
    for (const settle of [...this.#writes]) settle(this.#error);
  }
}
