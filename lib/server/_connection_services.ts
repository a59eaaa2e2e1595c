/**
 * Which loop serves the next connection: echo (the plain loop, or the
 * faulty one for connections chosen to get faults), discard or chargen.
 *
 * @module
 */

import {
  FaultBoard,
  FaultDice,
  type FaultKey,
  type FaultSettings,
  streamFaults,
} from "../faults/mod.ts";
import type { StreamConn } from "../net/mod.ts";
import { chargenConnection } from "./chargen_connection.ts";
import { discardConnection } from "./discard_connection.ts";
import {
  echoConnection,
  type EchoConnectionOptions,
  type EchoResult,
} from "./echo_connection.ts";
import { faultyConnection } from "./faulty_connection.ts";
import type { ServeEchoOptions } from "./serve_options.ts";

/** A connection's loop. */
export type ServeConnection = (
  conn: StreamConn,
  options: EchoConnectionOptions,
) => Promise<EchoResult>;

/** The loop for one connection, and the faults it gets. */
export interface ConnectionService {
  serve: ServeConnection;
  /** The faults chosen for it, by name; empty: served normally. */
  faults: FaultKey[];
}

const PLAIN: ConnectionService = { serve: echoConnection, faults: [] };
const NO_FAULTS: FaultSettings = {};

/**
 * Picks each connection's loop. Without faults (and without
 * `liveFaults`) every echo connection gets the plain loop, the same code
 * as a server that has never heard of faults.
 */
export class ConnectionServices {
  readonly #service: ConnectionService | undefined;
  readonly #board: FaultBoard | undefined;
  readonly #live: boolean;
  #seed: number | undefined;
  /** Which connections get faults (seeded by `--fault-seed`). */
  #choice = new FaultDice();
  /** Jitter (seeded too, apart, so jitter draws do not change choices). */
  #jitter = new FaultDice();

  /** @param options The server's options: service, faults, worker. */
  constructor(
    options: Pick<ServeEchoOptions, "service" | "faults" | "liveFaults">,
  ) {
    this.#service = options.service === "discard"
      ? { serve: discardConnection, faults: [] }
      : options.service === "chargen"
      ? { serve: chargenConnection, faults: [] }
      : undefined;
    this.#board = options.faults;
    this.#live = options.liveFaults ?? false;
  }

  /** The loop for the connection being opened now. */
  next(): ConnectionService {
    if (this.#service !== undefined) return this.#service;
    const board = this.#board;
    if (board === undefined) return PLAIN;
    const settings = board.current();
    const faults = streamFaults(settings);
    if (faults.length === 0 && !this.#live) return PLAIN;
    this.#reseed(settings.faultSeed);
    const chosen = this.#choice.chance(settings.faultRate ?? 1);
    if (!chosen && !this.#live) return PLAIN;
    // A chosen connection follows the board, so a change applies to its
    // next chunk; the others (with live faults) stay clean.
    const current = chosen ? () => board.current() : () => NO_FAULTS;
    const dice = this.#jitter;
    return {
      serve: (conn, options) =>
        faultyConnection(conn, { ...options, faults: current, dice }),
      faults: chosen ? faults : [],
    };
  }

  #reseed(seed: number | undefined): void {
    if (seed === this.#seed) return;
    this.#seed = seed;
    this.#choice = new FaultDice(seed);
    this.#jitter = new FaultDice(seed === undefined ? undefined : seed + 1);
  }
}
