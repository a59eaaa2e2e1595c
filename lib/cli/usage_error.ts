/**
 * The one error type that means "the command line is wrong": features
 * throw their own typed errors, and lib/cli turns those that are the
 * user's to fix into this, naming the flag.
 *
 * @module
 */

/**
 * Input that cannot work and that the user must change: a bad flag value,
 * an unreadable file. The command prints its message and exits with its
 * usage code (2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./usage_error.ts";
 * const error = new UsageError(`Unknown flag "--bogus": see --help`);
 * assert.equal(error.name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}
