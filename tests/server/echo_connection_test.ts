import assert from "node:assert/strict";
import { BufferBudget, echoConnection } from "../../lib/server/mod.ts";
import type { StreamConn } from "../../lib/net/mod.ts";

const ADDRESS: Deno.NetAddr = {
  transport: "tcp",
  hostname: "127.0.0.1",
  port: 7,
};

/**
 * A connection that has `bytes` to read, every read as full as the buffer
 * allows, and takes every write whole; `stallAfter` bytes in, reads wait
 * until `close()`, which fails them as Deno does.
 */
class ScriptedConn implements StreamConn {
  readonly localAddr = ADDRESS;
  readonly remoteAddr = ADDRESS;
  /** Every buffer read into, in order. */
  readonly buffers: Uint8Array[] = [];
  /** Their lengths at the time (a view shows 0 once its pages are gone). */
  readonly sizes: number[] = [];
  #left: number;
  #stallAfter: number;
  #closed = Promise.withResolvers<never>();
  /** Resolves when a read starts to wait for `close()`. */
  readonly stalled = Promise.withResolvers<void>();

  constructor(bytes: number, stallAfter = Infinity) {
    this.#left = bytes;
    this.#stallAfter = stallAfter;
    this.#closed.promise.catch(() => {});
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.buffers.push(buffer);
    this.sizes.push(buffer.length);
    if (this.#stallAfter <= 0) {
      this.stalled.resolve();
      return this.#closed.promise;
    }
    if (this.#left === 0) return Promise.resolve(null);
    const n = Math.min(buffer.length, this.#left, this.#stallAfter);
    this.#left -= n;
    this.#stallAfter -= n;
    return Promise.resolve(n);
  }

  write(chunk: Uint8Array): Promise<number> {
    return Promise.resolve(chunk.length);
  }

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.#closed.reject(new Deno.errors.BadResource("closed"));
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

Deno.test("a streaming connection grows one buffer in place past 16 KiB, then gives its pages and budget back at the end", async () => {
  const budget = new BufferBudget(1024 * 1024);
  const conn = new ScriptedConn(2 * 1024 * 1024);
  const result = await echoConnection(conn, { budget });
  assert.equal(result.reason, "eof");
  assert.equal(result.bytesEchoed, 2 * 1024 * 1024);
  assert.deepEqual(conn.sizes.slice(0, 11), [
    256,
    512,
    1024,
    2048,
    4096,
    8192,
    16384,
    32768,
    65536,
    131072,
    262144,
  ]);
  const large = conn.buffers.filter((_, i) =>
    (conn.sizes[i] ?? 0) >= 16 * 1024
  );
  const pages = new Set(large.map((buffer) => buffer.buffer));
  assert.equal(pages.size, 1, "one ArrayBuffer from 16 KiB up");
  const [only] = pages as Set<ArrayBuffer>;
  assert.equal(only?.resizable, true);
  assert.equal(only?.byteLength, 0, "its pages went back when it ended");
  assert.equal(budget.peak, 256 * 1024 - 256);
  assert.equal(budget.inUse, 0);
  assert.equal(budget.mapped, 0);
});

Deno.test("a connection closed by shutdown in the middle of a read gives its pages and budget back", async () => {
  const budget = new BufferBudget(1024 * 1024);
  const conn = new ScriptedConn(1024 * 1024, 100_000);
  const stop = new AbortController();
  const done = echoConnection(conn, { budget, signal: stop.signal });
  await conn.stalled.promise;
  const last = conn.buffers.at(-1);
  assert.equal(last?.length, 64 * 1024, "waiting in a read, 64 KiB grown");
  assert.equal(budget.mapped, 1);
  stop.abort();
  const result = await done;
  assert.equal(result.reason, "shutdown");
  assert.equal((last?.buffer as ArrayBuffer).byteLength, 0);
  assert.equal(budget.inUse, 0);
  assert.equal(budget.mapped, 0);
});
