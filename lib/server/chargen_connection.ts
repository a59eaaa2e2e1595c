/**
 * Character generator (RFC 864): send the rotating 72-character lines
 * until the client leaves; what it sends is read and dropped. The first
 * half of a one-way throughput test (discard is the other).
 *
 * @module
 */

import {
  closeOnAbort,
  closeQuietly,
  forgetOnAbort,
  IdleTimer,
  type StreamConn,
  writeAll,
} from "../net/mod.ts";
import { MIN_BUFFER_SIZE } from "./_buffer_sizing.ts";
import {
  type EchoConnectionOptions,
  type EchoResult,
  reasonFor,
} from "./echo_connection.ts";

/** Characters per line, CR LF not counted (RFC 864). */
const LINE_LENGTH = 72;

/** The printable ASCII characters the lines rotate through, 32 to 126. */
const PRINTABLE = Array.from({ length: 95 }, (_, i) => 32 + i);

/**
 * One whole cycle of the pattern: 95 lines, each starting one character
 * later than the one before. Writing whole cycles keeps every write
 * aligned, so the stream is the pattern from its first byte.
 */
export const CHARGEN_CYCLE: Uint8Array = (() => {
  const line = LINE_LENGTH + 2;
  const cycle = new Uint8Array(PRINTABLE.length * line);
  for (let row = 0; row < PRINTABLE.length; row++) {
    for (let col = 0; col < LINE_LENGTH; col++) {
      cycle[row * line + col] = PRINTABLE[(row + col) % PRINTABLE.length]!;
    }
    cycle[row * line + LINE_LENGTH] = 13; // CR
    cycle[row * line + LINE_LENGTH + 1] = 10; // LF
  }
  return cycle;
})();

/** Nine cycles (about 62 KiB) per write: few writes, little memory. */
const BLOCK = new Uint8Array(CHARGEN_CYCLE.length * 9).map((_, i) =>
  CHARGEN_CYCLE[i % CHARGEN_CYCLE.length]!
);

/**
 * Sends the pattern on `conn` until the peer half-closes (`eof`: the
 * connection is closed then, as RFC 864 ends the service when the client
 * does) or stops reading for good; drops what it sends. `bytesEchoed`
 * counts the bytes sent. Never throws.
 *
 * @param conn An open connection.
 * @param options The shutdown signal, and the idle timeout (no write
 * completing for that long: a client that stopped reading).
 * @returns Bytes sent and why it ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHARGEN_CYCLE, chargenConnection } from "./chargen_connection.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * using conn = await listener.accept();
 * const sending = chargenConnection(conn);
 * const line = new Uint8Array(74);
 * await client.read(line);
 * assert.equal(new TextDecoder().decode(line.subarray(0, 3)), ' !"');
 * await client.closeWrite();
 * assert.equal((await sending).reason, "eof");
 * ```
 */
export async function chargenConnection(
  conn: StreamConn,
  options: Pick<EchoConnectionOptions, "signal" | "idleTimeout"> = {},
): Promise<EchoResult> {
  const { signal, idleTimeout = 0 } = options;
  if (signal?.aborted) conn.close();
  else if (signal !== undefined) closeOnAbort(signal, conn);
  // Idle here means no write completing: a client that never reads would
  // otherwise hold its slot for good.
  const idle = idleTimeout > 0
    ? new IdleTimer(idleTimeout, () => closeQuietly(conn))
    : undefined;
  let sent = 0;
  let peerDone = false;
  const dropInput = (async () => {
    const scratch = new Uint8Array(MIN_BUFFER_SIZE);
    try {
      while (await conn.read(scratch) !== null) { /* RFC 864: dropped */ }
    } catch {
      // The writes below see the same failure.
    }
    peerDone = true;
    // The client's end is the end of the service (RFC 864); a write
    // blocked on a client that stopped reading must end too.
    closeQuietly(conn);
  })();
  try {
    while (!peerDone) {
      await writeAll(conn, BLOCK);
      idle?.touch();
      sent += BLOCK.length;
    }
    return { bytesEchoed: sent, reason: "eof" };
  } catch (error) {
    if (signal?.aborted) return { bytesEchoed: sent, reason: "shutdown" };
    if (idle?.expired) return { bytesEchoed: sent, reason: "idle-timeout" };
    if (peerDone) return { bytesEchoed: sent, reason: "eof" };
    closeQuietly(conn);
    return { bytesEchoed: sent, reason: reasonFor(error), error };
  } finally {
    idle?.[Symbol.dispose]();
    await dropInput;
    if (signal !== undefined) forgetOnAbort(signal, conn);
  }
}
