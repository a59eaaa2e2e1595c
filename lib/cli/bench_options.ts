/**
 * From `echo-client bench`'s parsed flags to {@linkcode runLoad}'s
 * options, and from its report to stdout and an exit code.
 *
 * @module
 */

import {
  formatReport,
  LatencyHistogram,
  type LoadOptions,
  type LoadProgress,
  type LoadReport,
  reportToJson,
} from "../bench/mod.ts";
import { writeStdout } from "../log/mod.ts";
import type { BenchArgs } from "./bench_flags.ts";
import { ExitCode } from "./exit_codes.ts";
import { LiveProgress } from "./progress_line.ts";

/**
 * The options `runLoad` takes for `args`: Ctrl-C stops the load (the
 * report still prints), and live counters are drawn on a terminal.
 * Disposing them stops both.
 *
 * @param args Parsed flags.
 * @returns Options for `runLoad`, disposable.
 */
export function benchOptions(args: BenchArgs): LoadOptions & Disposable {
  const progress: LoadProgress = {
    completed: 0,
    bytesVerified: 0,
    errors: 0,
    latency: new LatencyHistogram(),
  };
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const live = !args.quiet && Deno.stderr.isTerminal()
    ? new LiveProgress(progress)
    : undefined;
  return {
    ...args,
    progress,
    signal: stop.signal,
    [Symbol.dispose]: () => {
      Deno.removeSignalListener("SIGINT", onInterrupt);
      live?.[Symbol.dispose]();
    },
  };
}

/**
 * Prints the report (a table or JSON) and returns the exit code: 0 only for
 * a run with work done and no error or mismatch.
 *
 * @param report What the load measured.
 * @param args Parsed flags.
 * @returns The exit code.
 */
export function reportBench(report: LoadReport, args: BenchArgs): ExitCode {
  writeStdout(
    args.json
      ? JSON.stringify(reportToJson(report)) + "\n"
      : formatReport(report),
  );
  return report.errors + report.mismatches === 0 && report.completed > 0
    ? ExitCode.Ok
    : ExitCode.EchoMismatch;
}
