/**
 * Verified streaming: send a byte stream of any length, receive its echo
 * at the same time, check every byte, pass the echo on as it arrives.
 *
 * Memory stays bounded by `window`: sending pauses while that many bytes
 * are out without their echo, so a 1 GiB pipe needs no more memory than a
 * 1 KiB one.
 *
 * @module
 */

import {
  DEFAULT_TIMEOUT_MS,
  EchoMismatchError,
  IdleTimer,
  TimeoutError,
  writeAll,
} from "../net/mod.ts";
import { UnverifiedBytes } from "./unverified_bytes.ts";
import { formatBytes, formatDuration } from "../log/mod.ts";

/** Bytes allowed in flight without their echo, by default. */
export const DEFAULT_WINDOW = 4 * 1024 * 1024;

const RECEIVE_BUFFER_SIZE = 64 * 1024;

/** Progress so far, reported by {@linkcode echoStream}. */
export interface EchoStreamProgress {
  /** Bytes written to the connection. */
  bytesSent: number;
  /** Bytes echoed back and found equal to what was sent. */
  bytesVerified: number;
}

/** Options for {@linkcode echoStream}. */
export interface EchoStreamOptions {
  /**
   * Longest wait, in ms, for echo while some is owed. Waiting for input is
   * not limited (a person may be typing).
   * @default {10000}
   */
  timeout?: number;
  /**
   * Most bytes sent and not yet echoed; sending pauses at this point.
   * @default {4194304}
   */
  window?: number;
  /**
   * Receives each verified piece of echo, in order; the next read waits
   * until it resolves, so a slow consumer slows the stream (backpressure).
   * The bytes are only valid until then.
   * @default {discards the echo}
   */
  onEcho?: (echo: Uint8Array) => Promise<void> | void;
  /**
   * Totals to update in place as the stream runs, for a live display.
   * @default {a fresh object}
   */
  progress?: EchoStreamProgress;
}

/**
 * Streams `input` to `conn`, half-closes when `input` ends, and verifies
 * the echo until the server closes its side.
 *
 * @param conn An open connection to an echo server.
 * @param input The bytes to send; chunks are kept until verified, not copied.
 * @param options Timeout, window and echo consumer.
 * @returns Totals; `bytesVerified === bytesSent` on success.
 * @throws {EchoMismatchError} If a byte differs, bytes are missing when the
 * server closes, or more bytes come back than were sent.
 * @throws {TimeoutError} If owed echo does not arrive within the timeout.
 *
 * @example
 * ```ts
 * import { connectWithTimeout } from "../net/connect.ts";
 * import { echoStream } from "./echo_stream.ts";
 * // An echo server to try it on.
 * using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = server.accept().then((conn) => conn.readable.pipeTo(conn.writable));
 * using conn = await connectWithTimeout({ transport: "tcp", hostname: "127.0.0.1", port: server.addr.port });
 * const input = ReadableStream.from([new Uint8Array(100_000)]);
 * let echoed = 0;
 * await echoStream(conn, input, { onEcho: (echo) => void (echoed += echo.length) });
 * await serving; // echoed === 100_000, every byte verified
 * ```
 */
// One function on purpose: the sender and the verifier below share the
// window, the unverified bytes and the first failure; as closures over one
// state they stay in step without a class of their own.
export async function echoStream(
  conn: Deno.Conn,
  input: ReadableStream<Uint8Array>,
  options: EchoStreamOptions = {},
): Promise<EchoStreamProgress> {
  const timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const window = options.window ?? DEFAULT_WINDOW;
  const unverified = new UnverifiedBytes();
  const progress = options.progress ?? { bytesSent: 0, bytesVerified: 0 };
  const reader = input.getReader();
  let inputDone = false;
  let timedOut = false;
  let failure: { error: unknown } | undefined;
  let wakeSender: (() => void) | undefined;

  // The first failure on either side wins and stops the other side:
  // closing the connection fails its pending I/O, cancelling ends input.
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = { error };
    try {
      conn.close();
    } catch {
      // Already closed by the timer.
    }
    reader.cancel().catch(() => {});
    wakeSender?.();
  };

  using timer = new IdleTimer(timeoutMs, () => {
    if (unverified.size === 0) {
      timer.restart(); // owed nothing: waiting on input, not on the server
      return;
    }
    timedOut = true;
    fail(new TimeoutError("timed out"));
  });

  const send = async () => {
    while (failure === undefined) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      while (unverified.size > 0 && unverified.size + chunk.length > window) {
        await new Promise<void>((resolve) => wakeSender = resolve);
        if (failure !== undefined) return;
      }
      if (unverified.size === 0) timer.touch(); // the wait for echo starts now
      unverified.push(chunk);
      await writeAll(conn, chunk);
      progress.bytesSent += chunk.length;
    }
    if (failure !== undefined) return;
    inputDone = true;
    await conn.closeWrite();
  };

  const receive = async () => {
    const buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      timer.touch();
      const echo = buffer.subarray(0, n);
      const mismatch = unverified.verify(echo);
      if (mismatch !== -1) throw mismatchError(mismatch, unverified);
      progress.bytesVerified = unverified.verified;
      wakeSender?.();
      wakeSender = undefined;
      await options.onEcho?.(echo);
    }
    if (!inputDone || unverified.size > 0) {
      throw new EchoMismatchError(
        `Connection ended early: ${progress.bytesVerified} bytes echoed, ${
          inputDone ? progress.bytesSent : "more"
        } sent`,
      );
    }
  };

  try {
    await Promise.all([send().catch(fail), receive().catch(fail)]);
  } finally {
    reader.releaseLock();
  }
  if (timedOut) {
    throw new TimeoutError(
      `No echo for ${formatDuration(timeoutMs)}: ${
        formatBytes(unverified.size)
      } sent and not echoed`,
    );
  }
  if (failure !== undefined) throw failure.error;
  return progress;
}

function mismatchError(
  offset: number,
  unverified: UnverifiedBytes,
): EchoMismatchError {
  // Past everything pushed so far: the server sent bytes we never did.
  return offset >= unverified.verified + unverified.size
    ? new EchoMismatchError(
      `Echo has more bytes than were sent: extra data at byte ${offset}`,
    )
    : new EchoMismatchError(
      `Echo differs from what was sent at byte ${offset}`,
    );
}
