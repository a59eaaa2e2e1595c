/**
 * A `node:net` socket (or a `node:tls` one over it) as a `StreamConn`.
 *
 * Reads follow the reader: the socket is read until {@linkcode READ_AHEAD}
 * bytes wait here unread, then not until a `read` takes them, so a peer
 * that is not read meets backpressure as with `Deno.Conn`, and at most
 * that much and one more chunk wait here per connection.
 *
 * @module
 */

import type net from "node:net";
import { denoError, netAddr } from "./_node_listener.ts";
import type { StreamConn } from "./stream.ts";

/**
 * Bytes received and not yet read after which the socket is not read: a
 * stream arrives in chunks large enough to echo cheaply (TLS delivers one
 * record, at most 16 KiB, per chunk).
 */
export const READ_AHEAD = 64 * 1024;

/**
 * How a connection stops and restarts reading its socket: by default
 * `pause()` and `resume()`; a TLS socket needs its TCP handle stopped
 * instead (see _tls_session.ts).
 */
export interface ReadControl {
  /** Stop taking input from the peer. */
  stop(): void;
  /** Take input again. */
  start(): void;
}

/** A stream connection over a `node:net` socket. */
export class NodeSocketConn implements StreamConn {
  readonly localAddr: Deno.NetAddr;
  readonly remoteAddr: Deno.NetAddr;
  readonly #socket: net.Socket;
  /** Chunks received and not yet read, oldest first. */
  readonly #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Whether the socket is being read (`control` started). */
  #reading: boolean;
  #ended = false;
  #error: Error | undefined;
  #reader: PromiseWithResolvers<void> | undefined;
  readonly #control: ReadControl;
  readonly #copyWrites: boolean;
  // deno-lint-ignore no-explicit-any -- node:events' own listener type
  readonly #listeners: [string, (...args: any[]) => void][];

  /**
   * @param socket A paused socket, which this connection owns from now.
   * @param addresses Its addresses (a TLS socket's are its TCP socket's).
   *   @default {the socket's own}
   * @param control How reading stops and starts.
   *   @default {the socket's pause() and resume()}
   * @param copyWrites Copy what `write` is given: a plain socket may still
   *   hold a chunk when its write settles; a TLS socket has encrypted it.
   *   @default {true}
   */
  constructor(
    socket: net.Socket,
    addresses: { localAddr: Deno.NetAddr; remoteAddr: Deno.NetAddr } = {
      localAddr: netAddr(socket.localAddress, socket.localPort),
      remoteAddr: netAddr(socket.remoteAddress, socket.remotePort),
    },
    control: ReadControl = {
      stop: () => socket.pause(),
      start: () => socket.resume(),
    },
    copyWrites = true,
  ) {
    this.#socket = socket;
    this.#control = control;
    this.#copyWrites = copyWrites;
    this.localAddr = addresses.localAddr;
    this.remoteAddr = addresses.remoteAddr;
    this.#listeners = [
      ["data", (chunk: Uint8Array) => {
        this.#pending.push(chunk);
        this.#pendingBytes += chunk.length;
        if (this.#pendingBytes >= READ_AHEAD) this.#stopReading();
        this.#wakeReader();
      }],
      ["end", () => {
        this.#ended = true;
        this.#wakeReader();
      }],
      ["error", (error: Error) => {
        this.#error ??= denoError(error);
        this.#wakeReader();
      }],
      ["close", () => {
        this.#error ??= new Deno.errors.BadResource("Connection closed");
        this.#wakeReader();
      }],
    ];
    for (const [event, listener] of this.#listeners) socket.on(event, listener);
    // A socket accepted paused (`pauseOnConnect`) stays paused until the
    // first read; a new TLS socket flows, reading its TCP handle.
    this.#reading = socket.readableFlowing === true;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#pending.length === 0) {
      if (this.#ended) return null;
      if (this.#error !== undefined) throw this.#error;
      this.#reader = Promise.withResolvers<void>();
      this.#startReading();
      await this.#reader.promise;
    }
    // As much as fits, from as many chunks as fit.
    let n = 0;
    while (n < buffer.length && this.#pending.length > 0) {
      const chunk = this.#pending[0] as Uint8Array;
      const taken = Math.min(chunk.length, buffer.length - n);
      buffer.set(
        taken === chunk.length ? chunk : chunk.subarray(0, taken),
        n,
      );
      n += taken;
      if (taken === chunk.length) this.#pending.shift();
      else this.#pending[0] = chunk.subarray(taken);
    }
    this.#pendingBytes -= n;
    if (this.#pendingBytes < READ_AHEAD) this.#startReading();
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      // A copy: the caller may reuse its buffer once this resolves, and
      // node:net may still hold the chunk then.
      this.#socket.write(this.#copyWrites ? bytes.slice() : bytes, (error) => {
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

  /** Closes the connection with RST (`SO_LINGER` 0): the peer gets ECONNRESET. */
  reset(): void {
    this.#socket.resetAndDestroy();
  }

  [Symbol.dispose](): void {
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  /**
   * Hands the socket to a new owner: this connection stops listening to
   * it, and what it had received but not been read is put back in front
   * of the socket's input, behind `unread`.
   *
   * @param unread Bytes read from this connection that belong to the new
   *   owner (the start of a TLS handshake after a PROXY header).
   * @returns The socket, paused, with an error listener that drops errors
   *   until the new owner listens.
   */
  release(unread: Uint8Array): net.Socket {
    const socket = this.#socket;
    socket.pause();
    for (const [event, listener] of this.#listeners) {
      socket.off(event, listener);
    }
    socket.on("error", () => {});
    for (const chunk of this.#pending.reverse()) socket.unshift(chunk);
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    if (unread.length > 0) socket.unshift(unread);
    return socket;
  }

  #stopReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.#control.stop();
  }

  #startReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#control.start();
  }

  #wakeReader(): void {
    this.#reader?.resolve();
    this.#reader = undefined;
  }
}
