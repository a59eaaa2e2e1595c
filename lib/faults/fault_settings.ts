/**
 * The faults a server can inject, in one shape for the command line, the
 * admin endpoint's `PUT /faults` body and every serving thread.
 *
 * @module
 */

import { parseDuration, parseSize } from "../log/mod.ts";

/** A point in a connection: after this many bytes, or this many ms. */
export type Cutoff = { bytes: number } | { ms: number };

/** What to do to connections (and datagrams) that get faults. */
export interface FaultSettings {
  /** Hold each echoed chunk (or datagram) this many ms. */
  delay?: number;
  /** Plus a uniformly random part of up to this many ms. */
  jitter?: number;
  /** Echo at most this many bytes per second per connection. */
  throttle?: number;
  /** Write the echo in pieces of at most this many bytes... */
  chunk?: number;
  /** ...with this many ms between them. */
  chunkDelay?: number;
  /** Close the connection (FIN) after echoing this much, or this long. */
  closeAfter?: Cutoff;
  /** Reset the connection (RST) after echoing this much, or this long. */
  resetAfter?: Cutoff;
  /** Read everything, answer nothing. */
  blackhole?: boolean;
  /** The share of connections (UDP: datagrams) that get the faults. */
  faultRate?: number;
  /** Makes the choice of `faultRate` reproducible. */
  faultSeed?: number;
  /** UDP: the share of datagrams not answered. */
  udpDrop?: number;
  /** UDP: the share of datagrams answered twice. */
  udpDuplicate?: number;
}

/** The name of each fault, as in flags (`--close-after`) and JSON keys. */
export const FAULT_KEYS = [
  "delay",
  "jitter",
  "throttle",
  "chunk",
  "chunk_delay",
  "close_after",
  "reset_after",
  "blackhole",
  "fault_rate",
  "fault_seed",
  "udp_drop",
  "udp_duplicate",
] as const;

/** One fault's name. */
export type FaultKey = typeof FAULT_KEYS[number];

/** A value as the command line (text) or JSON (text, number, bool) gives it. */
export type FaultValue = string | number | boolean;

type Field = {
  [K in keyof FaultSettings]-?: {
    setting: K;
    parse: (value: FaultValue) => FaultSettings[K];
    format: (value: NonNullable<FaultSettings[K]>) => FaultValue;
  };
}[keyof FaultSettings];

/**
 * The longest fault duration: a day. Timers cannot go beyond about 24.8
 * days (2^31 ms: longer ones fire at once), and no test needs more.
 */
export const MAX_FAULT_MS = 86_400_000;

const duration = (value: FaultValue): number =>
  withinADay(parseDuration(text(value)));

function withinADay(ms: number): number {
  if (!(ms <= MAX_FAULT_MS)) {
    throw new RangeError(
      `Invalid duration ${ms} ms: at most a day (${MAX_FAULT_MS} ms)`,
    );
  }
  return ms;
}
const formatMs = (ms: number): string => `${ms}ms`;
const size = (value: FaultValue): number => positive(parseSize(text(value)));
const formatBytes = (bytes: number): string => `${bytes}B`;

const FIELDS: Record<FaultKey, Field> = {
  delay: { setting: "delay", parse: duration, format: formatMs },
  jitter: { setting: "jitter", parse: duration, format: formatMs },
  throttle: {
    setting: "throttle",
    parse: (value) => size(text(value).replace(/\/s$/, "")),
    format: (rate) => `${rate}B/s`,
  },
  chunk: { setting: "chunk", parse: size, format: formatBytes },
  "chunk_delay": { setting: "chunkDelay", parse: duration, format: formatMs },
  "close_after": {
    setting: "closeAfter",
    parse: parseCutoff,
    format: formatCutoff,
  },
  "reset_after": {
    setting: "resetAfter",
    parse: parseCutoff,
    format: formatCutoff,
  },
  blackhole: {
    setting: "blackhole",
    parse: (value) => {
      if (typeof value !== "boolean") {
        throw new TypeError(`Invalid value "${value}": expected true or false`);
      }
      return value;
    },
    format: (on) => on,
  },
  "fault_rate": { setting: "faultRate", parse: share, format: (p) => p },
  "fault_seed": {
    setting: "faultSeed",
    parse: (value) => {
      const seed = /^\d+$/.test(String(value)) ? Number(value) : NaN;
      if (!Number.isSafeInteger(seed)) {
        throw new RangeError(
          `Invalid seed "${value}": expected a whole number, 0 or more`,
        );
      }
      return seed;
    },
    format: (seed) => seed,
  },
  "udp_drop": { setting: "udpDrop", parse: share, format: (p) => p },
  "udp_duplicate": { setting: "udpDuplicate", parse: share, format: (p) => p },
};

/**
 * Reads faults from their names and values, as `PUT /faults` sends them
 * (`{"delay": "200ms", "fault_rate": 0.5}`) and as the flags give them.
 *
 * @param values Fault name to value; every name must be a fault.
 * @returns The settings.
 * @throws {TypeError} Naming the fault whose name or value is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFaults } from "./fault_settings.ts";
 * assert.deepEqual(parseFaults({ delay: "200ms", close_after: "1000" }), {
 *   delay: 200,
 *   closeAfter: { bytes: 1000 },
 * });
 * ```
 */
export function parseFaults(values: Record<string, unknown>): FaultSettings {
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const field = Object.hasOwn(FIELDS, key)
      ? FIELDS[key as FaultKey]
      : undefined;
    if (field === undefined) {
      throw new TypeError(
        `Unknown fault "${key}": expected one of ${FAULT_KEYS.join(", ")}`,
      );
    }
    if (!["string", "number", "boolean"].includes(typeof value)) {
      throw new TypeError(`Fault "${key}": expected a string or a number`);
    }
    try {
      settings[field.setting] = field.parse(value as FaultValue);
    } catch (error) {
      throw new TypeError(`Fault "${key}": ${(error as Error).message}`);
    }
  }
  return settings as FaultSettings;
}

/**
 * Reads one fault, as a flag gives it (`--close-after 1000`).
 *
 * @param key The fault's name.
 * @param value Its value.
 * @returns Settings with that one fault.
 * @throws {TypeError} If the value is not one this fault takes.
 */
export function parseFault(key: FaultKey, value: FaultValue): FaultSettings {
  const field = FIELDS[key];
  return { [field.setting]: field.parse(value) };
}

/**
 * The settings as `GET /faults` shows them: the names and value forms
 * {@linkcode parseFaults} reads, so the answer can be sent back changed.
 *
 * @param settings The faults in force.
 * @returns Fault name to value, only those set.
 */
export function faultsToJson(
  settings: FaultSettings,
): Record<string, FaultValue> {
  const json: Record<string, FaultValue> = {};
  for (const key of FAULT_KEYS) {
    const field = FIELDS[key];
    const value = settings[field.setting];
    if (value !== undefined) {
      json[key] = (field.format as (value: unknown) => FaultValue)(value);
    }
  }
  return json;
}

/**
 * The faults that change what a connection gets, by name (`delay`,
 * `close_after`, …), for log lines and metrics; none: serve normally.
 *
 * @param settings The faults in force.
 * @returns The names of the stream faults set.
 */
export function streamFaults(settings: FaultSettings): FaultKey[] {
  return FAULT_KEYS.filter((key) => {
    if (key.startsWith("udp_") || key.startsWith("fault_")) return false;
    const value = settings[FIELDS[key].setting];
    return value !== undefined && value !== false && value !== 0;
  });
}

function text(value: FaultValue): string {
  if (typeof value === "boolean") {
    throw new TypeError(
      `Invalid value "${value}": expected a size or duration`,
    );
  }
  return String(value);
}

function positive(n: number): number {
  if (n === 0) throw new RangeError("Invalid size 0: expected 1 byte or more");
  return n;
}

function share(value: FaultValue): number {
  const p = typeof value === "number" ||
      (typeof value === "string" && /^(\d+(\.\d+)?|\.\d+)$/.test(value))
    ? Number(value)
    : NaN;
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(
      `Invalid share "${value}": expected a number from 0 to 1`,
    );
  }
  return p;
}

function parseCutoff(value: FaultValue): Cutoff {
  const written = text(value).trim();
  return /\d(ms|s|m|h)$/.test(written)
    ? { ms: withinADay(parseDuration(written)) }
    : { bytes: positive(parseSize(written)) };
}

function formatCutoff(cutoff: Cutoff): string {
  return "ms" in cutoff ? formatMs(cutoff.ms) : formatBytes(cutoff.bytes);
}
