/**
 * What the faults in force do to one UDP datagram: drop it, answer it
 * twice, or answer it late (which reorders, as a real network does).
 *
 * @module
 */

import { type FaultBoard, FaultDice, type FaultKey } from "../faults/mod.ts";

/** How one datagram is answered. */
export interface DatagramFate {
  /** Answers to send: 0 (dropped), 1, or 2 (duplicated). */
  copies: number;
  /** How long to hold them, in ms. */
  delayMs: number;
  /** The faults applied, for the metrics. */
  faults: FaultKey[];
}

/** A datagram answered once, at once: most of them, and every one without faults. */
export const NORMAL_FATE: DatagramFate = { copies: 1, delayMs: 0, faults: [] };

/** Decides each datagram's fate from the board, with seeded dice. */
export class UdpFaults {
  readonly #board: FaultBoard;
  #seed: number | undefined;
  #dice = new FaultDice();

  /** @param board The faults in force. */
  constructor(board: FaultBoard) {
    this.#board = board;
  }

  /** The fate of the datagram received now. */
  next(): DatagramFate {
    const settings = this.#board.current();
    const { delay = 0, jitter = 0, udpDrop = 0, udpDuplicate = 0 } = settings;
    const blackhole = settings.blackhole === true;
    if (delay + jitter + udpDrop + udpDuplicate === 0 && !blackhole) {
      return NORMAL_FATE;
    }
    if (settings.faultSeed !== this.#seed) {
      this.#seed = settings.faultSeed;
      this.#dice = new FaultDice(settings.faultSeed);
    }
    const dice = this.#dice;
    if (!dice.chance(settings.faultRate ?? 1)) return NORMAL_FATE;
    if (blackhole) return { copies: 0, delayMs: 0, faults: ["blackhole"] };
    if (dice.chance(udpDrop)) {
      return { copies: 0, delayMs: 0, faults: ["udp_drop"] };
    }
    const faults: FaultKey[] = [];
    const duplicated = dice.chance(udpDuplicate);
    if (duplicated) faults.push("udp_duplicate");
    if (delay > 0) faults.push("delay");
    if (jitter > 0) faults.push("jitter");
    return {
      copies: duplicated ? 2 : 1,
      delayMs: delay + jitter * dice.next(),
      faults,
    };
  }
}
