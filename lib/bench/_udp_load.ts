/**
 * The datagram side of `bench --udp`: each slot sends a datagram, waits for
 * its echo up to the timeout, and counts what the path did: lost,
 * duplicated, reordered (late) or altered datagrams.
 *
 * @module
 */

import {
  DatagramReceiver,
  openUdpSocket,
  sendDatagram,
} from "../client/mod.ts";
import { bytesEqual, closeQuietly, delay } from "../net/mod.ts";

/** What the datagrams went through, over the whole load. */
export interface UdpCounts {
  /** Datagrams sent while measuring. */
  sent: number;
  /** Sent, and no echo within the timeout. */
  lost: number;
  /** Extra copies of an echo already received. */
  duplicates: number;
  /** Echoes that came after a later datagram's (late ones included). */
  reordered: number;
}

/** What one UDP slot needs from the load. */
export interface UdpSlot {
  server: { hostname: string; port: number };
  /** Bytes per datagram, header included. */
  size: number;
  pattern: Uint8Array;
  /** This slot's start in the pattern. */
  offset: number;
  /** Ms between two datagrams of this slot (0: as soon as answered). */
  interval: number;
  /** How long to wait for each echo, in ms. */
  timeout: number;
  stop: AbortSignal;
  claim: () => boolean;
  measuring: () => boolean;
  /** Called with each intact echo's round trip, in µs. */
  onEcho: (micros: number, bytes: number) => void;
  /** Called with each altered echo. */
  onAltered: () => void;
  counts: UdpCounts;
}

/** Session id, slot and sequence number at the start of every datagram. */
const HEADER = 12;

/** The smallest datagram: its header. */
export const MIN_UDP_LOAD_SIZE = HEADER;

/** Sequence numbers remembered for duplicate detection, per slot. */
const REMEMBERED = 4096;

/**
 * Runs one slot until the load is over: one datagram in flight at a time,
 * every echo checked byte for byte.
 */
export async function udpSlot(slot: UdpSlot, id: number): Promise<void> {
  const socket = openUdpSocket(slot.server);
  const receiver = new DatagramReceiver(socket, slot.server);
  const session = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  const answered = new Set<number>();
  let highest = 0;
  let offset = slot.offset;
  let due = performance.now();
  // The end of the load ends a wait for an echo at once: closing the
  // socket rejects the receive (what the stop ends is not counted).
  const closeSocket = () => closeQuietly(socket);
  slot.stop.addEventListener("abort", closeSocket, { once: true });
  // A datagram sent while measuring whose fate is still open.
  let inFlight = false;
  try {
    for (let seq = 1; slot.claim(); seq++) {
      if (slot.interval > 0) {
        const wait = due - performance.now();
        if (wait > 1) await delay(wait, slot.stop);
        if (slot.stop.aborted) return;
        due += slot.interval;
      }
      const message = datagram(slot, session, id, seq, offset);
      const measured = slot.measuring();
      const sent = performance.now();
      await sendDatagram(socket, message, slot.server);
      if (measured) slot.counts.sent++;
      inFlight = measured;
      // Wait for this datagram's echo; earlier ones may still come (late).
      while (true) {
        const left = sent + slot.timeout - performance.now();
        const reply = left > 0 && !slot.stop.aborted
          ? await receiver.next(left)
          : undefined;
        if (reply === undefined) {
          if (measured && !slot.stop.aborted) {
            slot.counts.lost++;
            inFlight = false;
          }
          break;
        }
        const replySeq = sequenceOf(reply, session, id);
        if (replySeq === undefined) continue; // not this slot's
        if (answered.has(replySeq)) {
          if (measured) slot.counts.duplicates++;
          continue;
        }
        answered.add(replySeq);
        answered.delete(replySeq - REMEMBERED);
        if (replySeq < highest && measured) slot.counts.reordered++;
        highest = Math.max(highest, replySeq);
        if (replySeq !== seq) continue; // a late echo, counted above
        if (!bytesEqual(reply, message)) {
          if (measured) slot.onAltered();
        } else if (measured) {
          slot.onEcho((performance.now() - sent) * 1000, message.length);
        }
        inFlight = false;
        break;
      }
      offset = (offset + slot.size) % (slot.pattern.length - slot.size);
    }
  } finally {
    // Cut short by the end of the load: neither answered nor lost.
    if (inFlight && slot.stop.aborted) slot.counts.sent--;
    slot.stop.removeEventListener("abort", closeSocket);
    receiver.cancel();
    closeQuietly(socket);
  }
}

function datagram(
  slot: UdpSlot,
  session: number,
  id: number,
  seq: number,
  offset: number,
): Uint8Array {
  const message = slot.pattern.slice(offset, offset + slot.size);
  const view = new DataView(message.buffer);
  view.setUint32(0, session);
  view.setUint32(4, id);
  view.setUint32(8, seq);
  return message;
}

function sequenceOf(
  reply: Uint8Array,
  session: number,
  id: number,
): number | undefined {
  if (reply.length < HEADER) return undefined;
  const view = new DataView(reply.buffer, reply.byteOffset);
  if (view.getUint32(0) !== session || view.getUint32(4) !== id) {
    return undefined;
  }
  return view.getUint32(8);
}
