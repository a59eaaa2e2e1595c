/**
 * Counting answers per backend: how a load balancer spreads connections,
 * from the banners that came back (`ping --banner`, `bench --banner`).
 *
 * @module
 */

import { MAX_VALUE_LENGTH } from "./banner_template.ts";
import { printableBanner } from "./read_banner.ts";

/**
 * Distinct backends counted by name; the rest are counted together as
 * {@linkcode OTHER_BACKENDS}. A banner with the peer's port in it (text
 * with `{peer}`) is new on every connection, and a hostile server could
 * make every one new: the tally stays this small anyway.
 */
export const MAX_BACKENDS = 256;

/** Where backends beyond {@linkcode MAX_BACKENDS} are counted. */
export const OTHER_BACKENDS = "(other)";

/**
 * The backend a banner names: a JSON banner's `pod`, else its
 * `hostname`; any other banner is its own name. Printable ASCII only, at
 * most {@linkcode MAX_VALUE_LENGTH} characters (a hostile server could
 * send 16 KiB lines, each one new).
 *
 * @param banner The line the server sent.
 * @returns The backend's name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backendOf } from "./backend_tally.ts";
 * assert.equal(backendOf('{"hostname":"h1","pod":"echo-0"}'), "echo-0");
 * assert.equal(backendOf("echo-1 10.0.0.7:7007"), "echo-1 10.0.0.7:7007");
 * ```
 */
export function backendOf(banner: string): string {
  if (banner.startsWith("{")) {
    try {
      const fields: unknown = JSON.parse(banner);
      if (typeof fields === "object" && fields !== null) {
        const { pod, hostname } = fields as Record<string, unknown>;
        const name = typeof pod === "string"
          ? pod
          : typeof hostname === "string"
          ? hostname
          : undefined;
        if (name !== undefined) return backendName(name);
      }
    } catch {
      // Not JSON after all: the line is the name.
    }
  }
  return backendName(banner);
}

/**
 * A backend's name as it may be printed and kept: printable ASCII, cut
 * at {@linkcode MAX_VALUE_LENGTH} characters.
 *
 * @param text A name from a banner, or from a report file.
 * @returns The name.
 */
export function backendName(text: string): string {
  return printableBanner(text.slice(0, MAX_VALUE_LENGTH));
}

/** Answers per backend. */
export class BackendTally {
  readonly #counts = new Map<string, number>();

  /**
   * Counts one answer (or, with `count`, several).
   *
   * @param backend The backend's name, from {@linkcode backendOf}.
   * @param count How many answers.
   */
  add(backend: string, count = 1): void {
    const known = this.#counts.has(backend) ||
      this.#counts.size < MAX_BACKENDS;
    const name = known ? backend : OTHER_BACKENDS;
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + count);
  }

  /** Whether nothing has been counted. */
  get empty(): boolean {
    return this.#counts.size === 0;
  }

  /**
   * The counts as plain data (for JSON and between threads), most
   * answers first.
   *
   * @returns Answers by backend name.
   */
  toJson(): Record<string, number> {
    const sorted = [...this.#counts].sort(([a, x], [b, y]) =>
      y - x || (a < b ? -1 : a > b ? 1 : 0)
    );
    // fromEntries defines own properties: a backend called "__proto__"
    // stays a count, where assigning it would not.
    return Object.fromEntries(sorted);
  }
}

/**
 * The spread on one line: `echo-0 52 % (26), echo-1 48 % (24)`.
 *
 * @param counts Answers by backend, as {@linkcode BackendTally.toJson}.
 * @returns The line, most answers first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBackends } from "./backend_tally.ts";
 * assert.equal(formatBackends({ a: 3, b: 1 }), "a 75 % (3), b 25 % (1)");
 * ```
 */
export function formatBackends(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, count]) => count > 0)
    .sort(([, x], [, y]) => y - x);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return entries.map(([name, count]) =>
    `${name} ${Math.round(100 * count / total)} % (${count})`
  ).join(", ");
}
