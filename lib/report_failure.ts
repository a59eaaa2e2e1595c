/**
 * The entries' last step on failure: one line on stderr, an exit code.
 *
 * @module
 */

import { describeNetworkError } from "./errors.ts";
import type { ExitCode } from "./exit_codes.ts";
import { writeStderr } from "./_stdio.ts";

/**
 * Prints `error: <message>` for `error` on stderr (and its stack trace
 * with `verbose`) and returns the exit code to use.
 *
 * @param error Whatever ended the program.
 * @param address The `host:port` involved, for network errors.
 * @param verbose Whether to add the stack trace.
 * @returns The process exit code.
 *
 * @example
 * ```ts
 * import { reportFailure } from "./report_failure.ts";
 * Deno.exitCode = reportFailure(new Error("boom"), "127.0.0.1:7007", false);
 * ```
 */
export function reportFailure(
  error: unknown,
  address: string,
  verbose: boolean,
): ExitCode {
  const failure = describeNetworkError(error, address);
  writeStderr(`error: ${failure.message}\n`);
  if (verbose && error instanceof Error && error.stack) {
    writeStderr(`${error.stack}\n`);
  }
  return failure.exitCode;
}
