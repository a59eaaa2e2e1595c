import assert from "node:assert/strict";
import {
  connectWithTimeout,
  EchoMismatchError,
  TimeoutError,
} from "../../lib/net/mod.ts";
import { echoStream } from "../../lib/client/mod.ts";
import {
  loopback,
  patternChunk,
  startCorruptingServer,
  startEchoServer,
  startFakeServer,
  startSilentServer,
} from "../_helpers.ts";

const CHUNK = 256 * 1024;

/** `total` bytes of the seeded pattern, as a stream of fresh chunks. */
function patternStream(
  seed: number,
  total: number,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller): void {
      if (offset >= total) {
        controller.close();
        return;
      }
      const length = Math.min(CHUNK, total - offset);
      controller.enqueue(patternChunk(seed, offset, length));
      offset += length;
    },
  });
}

Deno.test("echoStream verifies 128 MiB through a real server and passes the echo on", async () => {
  await using server = startEchoServer();
  const total = 128 * 1024 * 1024;
  let echoed = 0;
  let echoMatches = true;
  {
    using conn = await connectWithTimeout(loopback(server.port), {
      timeout: 1_000,
    });
    const result = await echoStream(conn, patternStream(7, total), {
      onEcho: (echo) => {
        // Independent check of what is handed on: regenerate from the
        // 4-aligned offset at or before this chunk.
        const skew = echoed % 4;
        const expected = patternChunk(7, echoed - skew, skew + echo.length);
        echoMatches &&= echo.every((byte, i) => byte === expected[skew + i]);
        echoed += echo.length;
      },
    });
    assert.deepEqual(result, { bytesSent: total, bytesVerified: total });
  }
  assert.equal(echoed, total);
  assert.ok(echoMatches);
});

Deno.test("echoStream stops at the first corrupted byte, with its offset", async () => {
  const offset = 3 * 1024 * 1024 + 5;
  await using server = startCorruptingServer(offset);
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(
    echoStream(conn, patternStream(1, 8 * 1024 * 1024)),
    (error) =>
      error instanceof EchoMismatchError &&
      error.message === `Echo differs from what was sent at byte ${offset}`,
  );
});

Deno.test("echoStream reports bytes that never came back", async () => {
  await using server = startFakeServer(async (conn) => {
    const buffer = new Uint8Array(1000);
    const n = await conn.read(buffer);
    await conn.write(buffer.subarray(0, Math.min(n ?? 0, 10)));
    // Hang up after echoing 10 bytes of the first read.
  });
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(
    echoStream(conn, patternStream(2, 1000)),
    (error) =>
      error instanceof EchoMismatchError &&
      /^Connection ended early: 10 bytes echoed/.test(error.message),
  );
});

Deno.test("echoStream reports an echo longer than what was sent", async () => {
  await using server = startFakeServer(async (conn) => {
    const buffer = new Uint8Array(64);
    let n: number | null;
    while ((n = await conn.read(buffer)) !== null) {
      await conn.write(buffer.subarray(0, n));
    }
    await conn.write(new Uint8Array([1, 2, 3])); // extra bytes after EOF
    await conn.closeWrite();
  });
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(
    echoStream(conn, patternStream(3, 64)),
    (error) =>
      error instanceof EchoMismatchError &&
      error.message ===
        "Echo has more bytes than were sent: extra data at byte 64",
  );
});

Deno.test("echoStream sends at most one window ahead of the echo, then times out", async () => {
  await using server = startSilentServer();
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  const progress = { bytesSent: 0, bytesVerified: 0 };
  await assert.rejects(
    echoStream(conn, patternStream(4, 64 * 1024 * 1024), {
      window: 1024 * 1024,
      timeout: 200,
      progress,
    }),
    (error) =>
      error instanceof TimeoutError &&
      /^No echo for 200 ms: 1.00 MiB sent and not echoed$/.test(error.message),
  );
  assert.equal(
    progress.bytesSent,
    1024 * 1024,
    "stopped sending at the window",
  );
});
