/**
 * `echo-client bench`'s report on stdout (a table, or JSON) and its exit
 * code, for one thread or several merged.
 *
 * @module
 */

import { formatReport, type LoadReport, reportToJson } from "../bench/mod.ts";
import { writeStdout } from "../log/mod.ts";
import type { BenchArgs } from "./bench_flags.ts";
import { ExitCode } from "./exit_codes.ts";

/**
 * Prints the report (a table or JSON) and returns the exit code: 0 only for
 * a run with work done and no error or mismatch.
 *
 * @param report What the load measured.
 * @param args Parsed flags.
 * @param maxIoEventsPerTick The scheduling setting the load ran under (see
 * fair_scheduling.ts in net/); undefined: the runtime's default, unfair.
 * @returns The exit code.
 */
export function reportBench(
  report: LoadReport,
  args: BenchArgs,
  maxIoEventsPerTick: string | undefined,
): ExitCode {
  writeStdout(
    args.json
      ? JSON.stringify({
        // In NDJSON (with --interval), the summary says what it is.
        ...(args.interval !== undefined && { type: "summary" }),
        ...reportToJson(report),
        max_io_events_per_tick: maxIoEventsPerTick ?? null,
      }) + "\n"
      : formatReport(report) +
        `scheduling     ${
          maxIoEventsPerTick === undefined
            ? "runtime default (latencies may carry a runtime tail)"
            : `at most ${maxIoEventsPerTick} I/O events per turn`
        }\n`,
  );
  return report.errors + report.mismatches === 0 && report.completed > 0
    ? ExitCode.Ok
    : ExitCode.EchoMismatch;
}
