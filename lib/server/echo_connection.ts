/**
 * The echo loop for one connection: read a chunk, write it all back,
 * repeat; on end of input, half-close.
 *
 * @module
 */

import {
  closeOnAbort,
  forgetOnAbort,
  IdleTimer,
  type StreamConn,
  writeAll,
} from "../net/mod.ts";
import {
  MIN_BUFFER_SIZE,
  nextBuffer,
  releaseBuffer,
} from "./_buffer_sizing.ts";
import type { BufferBudget } from "./buffer_budget.ts";

/**
 * The largest buffer a connection grows to while streaming. Each
 * connection starts at 256 B and doubles while reads fill its buffer; 256 KiB
 * reads make bulk echo cheap per byte, and backpressure still holds: never
 * more than one buffer is read ahead of what has been written back.
 */
export const DEFAULT_MAX_BUFFER_SIZE = 256 * 1024;

/**
 * Why a connection ended, as logged:
 * - `eof`: the peer half-closed and everything was echoed;
 * - `reset`: the peer reset or aborted the connection;
 * - `broken-pipe`: the peer stopped reading for good while we wrote;
 * - `idle-timeout`: silent for longer than the idle timeout;
 * - `shutdown`: still open when the server's drain deadline passed;
 * - `tls-handshake`: the TLS handshake failed or did not finish in time;
 * - `fault-close`, `fault-reset`: ended on purpose by `--close-after` or
 *   `--reset-after`;
 * - `error`: anything else (the error is logged alongside).
 */
export type CloseReason =
  | "eof"
  | "reset"
  | "broken-pipe"
  | "idle-timeout"
  | "shutdown"
  | "tls-handshake"
  | "fault-close"
  | "fault-reset"
  | "error";

/** Options for {@linkcode echoConnection}. */
export interface EchoConnectionOptions {
  /**
   * The most bytes read (and written back) at a time. Never more than this
   * is held per connection: the next read waits until the previous chunk is
   * written. Buffers start small and grow only while reads fill them.
   * @default {262144}
   */
  maxBufferSize?: number;
  /**
   * Close the connection after this many ms with nothing read or written;
   * `0` never does.
   * @default {0}
   */
  idleTimeout?: number;
  /** Aborting it closes the connection at once with reason `shutdown`. */
  signal?: AbortSignal;
  /**
   * The server-wide budget that buffer growth beyond 256 B is drawn from;
   * without one, growth is limited by `maxBufferSize` only.
   */
  budget?: BufferBudget;
  /**
   * Bytes already read from the connection (after a PROXY header, in the
   * same packet): echoed first.
   */
  prefix?: Uint8Array;
}

/** How a connection went. */
export interface EchoResult {
  /** Bytes read and fully written back. */
  bytesEchoed: number;
  /** Why it ended. */
  reason: CloseReason;
  /** The error behind `reset`, `broken-pipe` or `error`. */
  error?: unknown;
}

/**
 * Echoes everything read from `conn` back to it until the peer half-closes,
 * then half-closes too. Never throws: connection errors are part of the
 * result, so one bad peer cannot escape into the server.
 *
 * The caller keeps ownership of `conn` and closes it afterwards (`using`);
 * this function closes it early only for `idle-timeout` and `shutdown`.
 *
 * @param conn An open connection.
 * @param options Buffer size, idle timeout and shutdown signal.
 * @returns Bytes echoed and why the connection ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { echoConnection } from "./echo_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new TextEncoder().encode("hello"));
 * await client.closeWrite();
 * using conn = await listener.accept();
 * const result = await echoConnection(conn, { idleTimeout: 30_000 });
 * assert.equal(result.bytesEchoed, 5);
 * ```
 */
export async function echoConnection(
  conn: StreamConn,
  options: EchoConnectionOptions = {},
): Promise<EchoResult> {
  const {
    maxBufferSize = DEFAULT_MAX_BUFFER_SIZE,
    idleTimeout = 0,
    signal,
    budget,
  } = options;
  const baseSize = Math.min(MIN_BUFFER_SIZE, maxBufferSize);
  let buffer: Uint8Array = new Uint8Array(baseSize);
  let bytesEchoed = 0;
  // Closing the connection is the only way to interrupt a pending read; the
  // catch below tells these forced closes from the peer's errors.
  const idle = idleTimeout > 0
    ? new IdleTimer(idleTimeout, () => conn.close())
    : undefined;
  if (signal?.aborted) conn.close();
  else if (signal !== undefined) closeOnAbort(signal, conn);
  try {
    if (options.prefix !== undefined && options.prefix.length > 0) {
      await writeAll(conn, options.prefix);
      bytesEchoed += options.prefix.length;
    }
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      idle?.touch();
      const chunk = n === buffer.length ? buffer : buffer.subarray(0, n);
      // writeAll only for the rare partial write: one promise fewer per
      // chunk is worth 4 % of the 500-connection ping-pong rate.
      const written = await conn.write(chunk);
      if (written < n) await writeAll(conn, chunk.subarray(written));
      idle?.touch();
      bytesEchoed += n;
      buffer = nextBuffer(buffer, n, maxBufferSize, budget);
    }
    await conn.closeWrite();
    return { bytesEchoed, reason: "eof" };
  } catch (error) {
    if (signal?.aborted) return { bytesEchoed, reason: "shutdown" };
    if (idle?.expired) return { bytesEchoed, reason: "idle-timeout" };
    return { bytesEchoed, reason: reasonFor(error), error };
  } finally {
    // A try/finally rather than `using`: at thousands of idle connections,
    // every object kept alive per suspended call shows up in the RSS.
    idle?.[Symbol.dispose]();
    if (signal !== undefined) forgetOnAbort(signal, conn);
    releaseBuffer(buffer, baseSize, budget);
  }
}

/**
 * The close reason a peer's error stands for.
 *
 * @param error What a read or write threw.
 * @returns `reset`, `broken-pipe` or `error`.
 */
export function reasonFor(error: unknown): CloseReason {
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted
  ) {
    return "reset";
  }
  if (error instanceof Deno.errors.BrokenPipe) return "broken-pipe";
  return "error";
}
