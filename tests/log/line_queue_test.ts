import assert from "node:assert/strict";
import { LineQueue } from "../../lib/log/mod.ts";

const decoder = new TextDecoder();

/** A sink that takes nothing until released, like a pipe nobody reads. */
function stalledSink(): {
  write: (bytes: Uint8Array) => Promise<number>;
  written: string[];
  release: () => void;
} {
  const written: string[] = [];
  const open = Promise.withResolvers<void>();
  return {
    written,
    write: async (bytes) => {
      await open.promise;
      written.push(decoder.decode(bytes));
      return bytes.length;
    },
    release: () => open.resolve(),
  };
}

Deno.test("line queue never blocks: with the sink stalled, lines beyond the bound are dropped and counted", async () => {
  const sink = stalledSink();
  const queue = new LineQueue(sink.write, { maxBytes: 100 });
  for (let i = 0; i < 50; i++) {
    queue.write(`line ${String(i).padStart(3, "0")}\n`);
  }
  // The first line is being written; 100 bytes of 9-byte lines wait.
  assert.equal(queue.dropped, 50 - 1 - 11);
  assert.equal(await queue.flush(10), false, "a stalled sink times out");
  sink.release();
  assert.equal(await queue.flush(1_000), true);
  const text = sink.written.join("");
  // The notice stands where the lines were lost: after the 12 kept ones.
  assert.match(text, /^line 000\nline 001\n/);
  assert.match(text, /line 011\n[^\n]* log-dropped lines=38\n$/);
  assert.equal(text.split("\n").filter((line) => line !== "").length, 13);
});

Deno.test("line queue writes everything in order when the sink keeps up", async () => {
  const written: string[] = [];
  const queue = new LineQueue((bytes) => {
    written.push(decoder.decode(bytes));
    return Promise.resolve(bytes.length);
  });
  for (let i = 0; i < 1_000; i++) queue.write(`${i}\n`);
  assert.equal(await queue.flush(1_000), true);
  assert.equal(queue.dropped, 0);
  assert.deepEqual(
    written.join("").split("\n").slice(0, -1),
    Array.from({ length: 1_000 }, (_, i) => String(i)),
  );
});

Deno.test("line queue gives up quietly when the sink fails (stderr closed)", async () => {
  const queue = new LineQueue(() =>
    Promise.reject(new Deno.errors.BrokenPipe())
  );
  queue.write("lost\n");
  assert.equal(await queue.flush(1_000), true);
  queue.write("also lost\n");
  assert.equal(await queue.flush(1_000), true);
});
