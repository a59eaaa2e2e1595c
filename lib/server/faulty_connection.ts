/**
 * The echo loop with faults: the same bytes in the same order, but late,
 * slow, in small pieces, cut short by a close or a reset, or never.
 *
 * Reading and writing run side by side here (the plain loop alternates
 * them): a delayed chunk waits while the next ones are read, as on a
 * network with latency. What waits is bounded like the plain loop's
 * buffer: at most `maxBufferSize` bytes per connection, drawn from the
 * server-wide budget, after which the connection is not read (its
 * sender meets backpressure).
 *
 * @module
 */

import {
  type Cutoff,
  type FaultDice,
  type FaultSettings,
  Pacer,
} from "../faults/mod.ts";
import {
  closeOnAbort,
  closeQuietly,
  delay,
  forgetOnAbort,
  IdleTimer,
  type StreamConn,
  writeAll,
} from "../net/mod.ts";
import { MIN_BUFFER_SIZE } from "./_buffer_sizing.ts";
import {
  DEFAULT_MAX_BUFFER_SIZE,
  type EchoConnectionOptions,
  type EchoResult,
  reasonFor,
} from "./echo_connection.ts";

/** The most read at once: a delayed stream still moves in large chunks. */
const READ_SIZE = 64 * 1024;

/**
 * After a fault's close (FIN), how long the peer's further bytes are read
 * and dropped before the socket is closed: closing with unread input would
 * turn the FIN into a reset.
 */
const LINGER_MS = 2_000;

/** Options for {@linkcode faultyConnection}. */
export interface FaultyConnectionOptions extends EchoConnectionOptions {
  /** The faults in force, read again for every chunk (they may change). */
  faults: () => FaultSettings;
  /** Jitter's random part. */
  dice: FaultDice;
}

interface Chunk {
  bytes: Uint8Array;
  /** When it may be written (`performance.now()` time). */
  due: number;
  /** Bytes of the budget it holds. */
  reserved: number;
}

/**
 * Echoes `conn` with the faults of `options.faults()`, until the peer
 * half-closes (reason `eof`) or a fault ends it (`fault-close`,
 * `fault-reset`). What the peer receives is always a prefix of what it
 * sent. Never throws; the caller closes `conn`.
 *
 * A reset is a close with the peer's bytes unread: the kernel then answers
 * with RST instead of FIN (Deno has no `SO_LINGER`). At a byte cutoff the
 * server stops reading exactly there, so a peer that sent more gets the
 * reset; one that sent nothing more gets a FIN, and a reset when it sends
 * again.
 *
 * @param conn An open connection.
 * @param options The faults, the dice, and the plain loop's options.
 * @returns Bytes echoed and why it ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FaultDice } from "../faults/mod.ts";
 * import { faultyConnection } from "./faulty_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new TextEncoder().encode("hello"));
 * using conn = await listener.accept();
 * const faults = () => ({ closeAfter: { bytes: 2 } });
 * const result = await faultyConnection(conn, { faults, dice: new FaultDice(1) });
 * assert.deepEqual(result, { bytesEchoed: 2, reason: "fault-close" });
 * ```
 */
export async function faultyConnection(
  conn: StreamConn,
  options: FaultyConnectionOptions,
): Promise<EchoResult> {
  const run = new FaultyEcho(conn, options);
  return await run.result();
}

/** One connection's run: a reader and a writer around a queue. */
class FaultyEcho {
  readonly #conn: StreamConn;
  readonly #options: FaultyConnectionOptions;
  readonly #maxQueued: number;
  /** Where the connection ends by itself, and how. */
  readonly #cutoff: Cutoff | undefined;
  readonly #resets: boolean;
  readonly #queue: Chunk[] = [];
  #queued = 0;
  #read = 0;
  #echoed = 0;
  #readerDone = false;
  /** The writer has stopped (done, cut, or failed): nothing more to read for. */
  #writerDone = false;
  /** Set when a duration cutoff passes: stop echoing, end as it says. */
  #cut = false;
  #wake = Promise.withResolvers<void>();
  #pacer: Pacer | undefined;
  #lastPieceAt = -Infinity;
  /** Budget reserved for the read in progress. */
  #reading = 0;
  /**
   * Aborted when the connection is over for any reason (shutdown, idle,
   * a cut, a failed read): the writer's waits end with it, so a delayed
   * chunk does not hold the slot and its bytes for the rest of its delay.
   */
  readonly #over = new AbortController();
  readonly #waits: AbortSignal;
  readonly #idle: IdleTimer | undefined;
  #linger: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: StreamConn, options: FaultyConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#maxQueued = options.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE;
    const faults = options.faults();
    this.#resets = faults.resetAfter !== undefined;
    this.#cutoff = faults.resetAfter ?? faults.closeAfter;
    const idleTimeout = options.idleTimeout ?? 0;
    // Timers close quietly: the connection may be closed already.
    this.#idle = idleTimeout > 0
      ? new IdleTimer(idleTimeout, () => this.#endNow(false))
      : undefined;
    this.#waits = options.signal === undefined
      ? this.#over.signal
      : AbortSignal.any([options.signal, this.#over.signal]);
  }

  /**
   * Ends the connection now. A reset is at once where the socket can
   * (`ResettableConn`, plain TCP); elsewhere it is a close with the peer's
   * bytes unread, which the kernel answers with RST after the FIN Deno
   * sends first (a Unix socket's peer gets ECONNRESET).
   */
  #endNow(reset: boolean): void {
    this.#over.abort();
    const conn = this.#conn;
    if (reset && "reset" in conn && typeof conn.reset === "function") {
      try {
        conn.reset();
      } catch {
        // Closed already.
      }
    } else closeQuietly(conn);
  }

  async result(): Promise<EchoResult> {
    const { signal } = this.#options;
    if (signal?.aborted) this.#conn.close();
    else if (signal !== undefined) closeOnAbort(signal, this.#conn);
    const cutoff = this.#cutoff;
    const timer = cutoff !== undefined && "ms" in cutoff
      ? setTimeout(() => this.#cutNow(), cutoff.ms)
      : undefined;
    try {
      if (this.#options.faults().blackhole) return await this.#blackhole();
      const [reading, writing] = await Promise.allSettled([
        this.#reader().catch((error) => {
          this.#over.abort();
          throw error;
        }),
        this.#writer(),
      ]);
      for (const outcome of [reading, writing]) {
        if (outcome.status === "rejected") throw outcome.reason;
      }
      return await this.#end();
    } catch (error) {
      if (signal?.aborted) return this.#result("shutdown");
      if (this.#idle?.expired) return this.#result("idle-timeout");
      if (this.#cut) return this.#result(this.#cutReason());
      return { ...this.#result(reasonFor(error)), error };
    } finally {
      this.#over.abort();
      clearTimeout(timer);
      clearTimeout(this.#linger);
      this.#idle?.[Symbol.dispose]();
      if (signal !== undefined) forgetOnAbort(signal, this.#conn);
      for (const chunk of this.#queue) this.#release(chunk);
    }
  }

  #result(reason: EchoResult["reason"]): EchoResult {
    return { bytesEchoed: this.#echoed, reason };
  }

  #cutReason(): EchoResult["reason"] {
    return this.#resets ? "fault-reset" : "fault-close";
  }

  /** After the writer: the peer's EOF, or the fault's close or reset. */
  async #end(): Promise<EchoResult> {
    if (this.#cut) return this.#result(this.#cutReason());
    const cutoff = this.#cutoff;
    const reachedBytes = cutoff !== undefined && "bytes" in cutoff &&
      this.#echoed >= cutoff.bytes;
    if (!reachedBytes) {
      await this.#conn.closeWrite();
      return this.#result("eof");
    }
    if (this.#resets) {
      this.#endNow(true);
      return this.#result("fault-reset");
    }
    await this.#conn.closeWrite();
    await this.#discardUntilEof(LINGER_MS);
    return this.#result("fault-close");
  }

  /**
   * A duration cutoff: a reset at once; or a FIN at once (a write in
   * progress fails, which ends the writer), after which the reader drops
   * what still comes until the peer's EOF or the linger time.
   */
  #cutNow(): void {
    this.#cut = true;
    this.#over.abort();
    if (this.#resets) this.#endNow(true);
    else {
      this.#conn.closeWrite().catch(() => {});
      this.#linger = setTimeout(() => closeQuietly(this.#conn), LINGER_MS);
    }
    this.#wakeUp();
  }

  #wakeUp(): void {
    this.#wake.resolve();
    this.#wake = Promise.withResolvers<void>();
  }

  async #reader(): Promise<void> {
    const { budget } = this.#options;
    const cutoff = this.#cutoff;
    const limit = cutoff !== undefined && "bytes" in cutoff
      ? cutoff.bytes
      : Infinity;
    try {
      while (!this.#cut && !this.#writerDone && this.#read < limit) {
        let size = Math.min(
          READ_SIZE,
          this.#maxQueued - this.#queued,
          limit - this.#read,
        );
        let reserved = this.#queued === 0
          ? Math.max(0, size - MIN_BUFFER_SIZE)
          : size;
        if (
          size > 0 && reserved > 0 && budget?.tryReserve(reserved) === false
        ) {
          if (this.#queued > 0) size = 0;
          else [size, reserved] = [Math.min(size, MIN_BUFFER_SIZE), 0];
        }
        if (size <= 0) {
          await this.#wake.promise; // the writer makes room
          continue;
        }
        const buffer = new Uint8Array(size);
        // Held across the read: released in full if it ends or fails.
        this.#reading = reserved;
        const n = await this.#conn.read(buffer);
        this.#reading = 0;
        if (n === null) {
          budget?.release(reserved);
          break;
        }
        this.#idle?.touch();
        const kept = Math.min(reserved, n);
        budget?.release(reserved - kept);
        if (this.#cut) {
          budget?.release(kept);
          await this.#discardUntilEof(Infinity); // the linger timer ends it
          break;
        }
        const faults = this.#options.faults();
        const wait = (faults.delay ?? 0) +
          (faults.jitter ?? 0) * this.#options.dice.next();
        this.#read += n;
        this.#queued += n;
        this.#queue.push({
          bytes: buffer.subarray(0, n),
          due: performance.now() + wait,
          reserved: kept,
        });
        this.#wakeUp();
      }
    } finally {
      budget?.release(this.#reading);
      this.#reading = 0;
      this.#readerDone = true;
      this.#wakeUp();
    }
  }

  async #writer(): Promise<void> {
    try {
      await this.#writeQueue();
    } catch (error) {
      // A failed write ends the connection: the reader, maybe waiting for
      // bytes that will never be echoed, must end too.
      if (!this.#cut) closeQuietly(this.#conn); // a cut lingers instead
      throw error;
    } finally {
      this.#writerDone = true;
      this.#wakeUp();
    }
  }

  async #writeQueue(): Promise<void> {
    while (true) {
      const chunk = this.#queue[0];
      if (this.#cut) return;
      if (chunk === undefined) {
        if (this.#readerDone) return;
        await this.#wake.promise;
        continue;
      }
      const wait = chunk.due - performance.now();
      if (wait > 0) await delay(wait, this.#waits);
      if (this.#over.signal.aborted) return;
      await this.#writePaced(chunk.bytes);
      if (this.#cut) return;
      this.#queue.shift();
      this.#queued -= chunk.bytes.length;
      this.#release(chunk);
      this.#wakeUp();
    }
  }

  /** Writes `bytes` in the pieces and at the pace the faults ask for. */
  async #writePaced(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    while (rest.length > 0 && !this.#cut) {
      const faults = this.#options.faults();
      let piece = rest.length;
      if (faults.chunk !== undefined) {
        piece = Math.min(piece, faults.chunk);
        const gap = this.#lastPieceAt + (faults.chunkDelay ?? 0) -
          performance.now();
        if (gap > 0) await delay(gap, this.#waits);
      }
      const pacer = this.#pacerFor(faults.throttle);
      if (pacer !== undefined) {
        piece = Math.min(piece, pacer.piece);
        await pacer.take(piece, this.#waits);
      }
      if (this.#cut) return;
      await writeAll(this.#conn, rest.subarray(0, piece));
      this.#idle?.touch();
      this.#lastPieceAt = performance.now();
      this.#echoed += piece;
      rest = rest.subarray(piece);
    }
  }

  #pacerFor(rate: number | undefined): Pacer | undefined {
    if (rate === undefined) return (this.#pacer = undefined);
    if (this.#pacer?.rate !== rate) this.#pacer = new Pacer(rate);
    return this.#pacer;
  }

  #release(chunk: Chunk): void {
    this.#options.budget?.release(chunk.reserved);
    chunk.reserved = 0;
  }

  /** `--blackhole`: read and drop everything; at the peer's EOF, close. */
  async #blackhole(): Promise<EchoResult> {
    await this.#discardUntilEof(Infinity);
    await this.#conn.closeWrite();
    return this.#result("eof");
  }

  /** Reads and drops until EOF, or until `ms` pass (then closes). */
  async #discardUntilEof(ms: number): Promise<void> {
    const scratch = new Uint8Array(MIN_BUFFER_SIZE);
    using _linger = Number.isFinite(ms)
      ? new IdleTimer(ms, () => closeQuietly(this.#conn))
      : undefined;
    try {
      while (await this.#conn.read(scratch) !== null) this.#idle?.touch();
    } catch {
      // Closed by the linger timer or the peer: either way, done.
    }
  }
}
