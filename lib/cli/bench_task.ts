/**
 * `echo-client bench`'s work: the load from its parsed flags, live counters
 * on a terminal, the report on stdout, and the exit code; run in a Worker
 * for fair scheduling (see fair_task.ts).
 *
 * @module
 */

import {
  formatInterval,
  formatReport,
  IntervalReporter,
  intervalToJson,
  LatencyHistogram,
  type LoadProgress,
  type LoadReport,
  reportToJson,
  runLoad,
} from "../bench/mod.ts";
import { writeStdout } from "../log/mod.ts";
import { fairnessSetting } from "../thread/mod.ts";
import type { BenchArgs } from "./bench_flags.ts";
import { clientTlsOptions } from "./client_tls_flags.ts";
import { ExitCode } from "./exit_codes.ts";
import { fairCommand } from "./fair_task.ts";
import { LiveProgress } from "./progress_line.ts";

/** The bench worker module. */
const BENCH_WORKER = new URL("./_bench_worker.ts", import.meta.url);

/**
 * Runs `echo-client bench` with `args` in a fairly scheduled Worker;
 * Ctrl-C stops the load, and the report still prints.
 *
 * @param args Parsed flags.
 * @returns The exit code: 0 only for a run with work done and no error or
 * mismatch.
 */
export const benchCommand: (args: BenchArgs) => Promise<number> = fairCommand(
  BENCH_WORKER,
  benchTask,
);

/**
 * The load itself: runs it until done or `signal` aborts, drawing live
 * counters on a terminal, then prints the report.
 *
 * @param args Parsed flags.
 * @param signal Stops the load early.
 * @param onFilesRead Called once the `--ca` file (if any) is read, before
 * the first connection: where file access can be dropped.
 * @returns The exit code.
 */
export async function benchTask(
  args: BenchArgs,
  signal: AbortSignal,
  onFilesRead?: () => void,
): Promise<number> {
  const progress: LoadProgress = {
    completed: 0,
    bytesVerified: 0,
    errors: 0,
    latency: new LatencyHistogram(),
  };
  const { interval } = args;
  using _intervals = interval === undefined
    ? undefined
    : new IntervalReporter(progress, interval, (each) =>
      writeStdout(
        (args.json
          ? JSON.stringify(intervalToJson(each))
          : formatInterval(each)) + "\n",
      ));
  // The interval lines say it all; a live line on top would only repeat it.
  using _live = !args.quiet && interval === undefined &&
      Deno.stderr.isTerminal()
    ? new LiveProgress(progress)
    : undefined;
  const { tls: tlsFlags, interval: _interval, ...load } = args;
  const tls = tlsFlags === undefined
    ? undefined
    : await clientTlsOptions(tlsFlags);
  onFilesRead?.();
  const report = await runLoad({
    ...load,
    ...(tls !== undefined && { tls }),
    progress,
    signal,
  });
  _live?.[Symbol.dispose]();
  _intervals?.[Symbol.dispose]();
  return reportBench(report, args, fairnessSetting());
}

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
