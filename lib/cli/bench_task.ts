/**
 * `echo-client bench`'s work: the load from its parsed flags, live counters
 * on a terminal, the report on stdout, and the exit code; run in a Worker
 * for fair scheduling (see fair_task.ts).
 *
 * @module
 */

import {
  formatInterval,
  IntervalReporter,
  intervalToJson,
  LatencyHistogram,
  type LoadOptions,
  type LoadProgress,
  runLoad,
} from "../bench/mod.ts";
import { writeStdout } from "../log/mod.ts";
import { fairnessSetting } from "../thread/mod.ts";
import type { BenchArgs } from "./bench_flags.ts";
import { reportBench } from "./bench_report.ts";
import { clientTlsOptions } from "./client_tls_flags.ts";
import { benchThreadsCommand } from "./bench_threads.ts";
import { fairCommand } from "./fair_task.ts";
import { LiveProgress } from "./progress_line.ts";

/** The bench worker module. */
const BENCH_WORKER = new URL("./_bench_worker.ts", import.meta.url);

/**
 * The load `args` ask for, as `runLoad` takes it: the flags that only the
 * command uses left out, and the `--ca` file read.
 *
 * @param args Parsed flags.
 * @returns The load's options (without progress and signal).
 * @throws {UsageError} If the `--ca` file is missing or not PEM.
 */
export async function loadOptions(args: BenchArgs): Promise<LoadOptions> {
  const {
    tls: tlsFlags,
    interval: _interval,
    threads: _threads,
    json: _json,
    quiet: _quiet,
    ...load
  } = args;
  const tls = tlsFlags === undefined
    ? undefined
    : await clientTlsOptions(tlsFlags);
  return { ...load, ...(tls !== undefined && { tls }) };
}

/**
 * One thread: the load in a fairly scheduled Worker; Ctrl-C stops it, and
 * the report still prints.
 *
 * @param args Parsed flags.
 * @returns The exit code: 0 only for a run with work done and no error or
 * mismatch.
 */
const oneThread: (args: BenchArgs) => Promise<number> = fairCommand(
  BENCH_WORKER,
  benchTask,
);

/**
 * Runs `echo-client bench`: in one fairly scheduled Worker, or with
 * `--threads`, in several (see bench_threads.ts).
 *
 * @param args Parsed flags.
 * @returns The exit code: 0 only for a run with work done and no error or
 * mismatch.
 */
export function benchCommand(args: BenchArgs): Promise<number> {
  return args.threads > 1 ? benchThreadsCommand(args) : oneThread(args);
}

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
  const load = await loadOptions(args);
  onFilesRead?.();
  const report = await runLoad({ ...load, progress, signal });
  _live?.[Symbol.dispose]();
  _intervals?.[Symbol.dispose]();
  return reportBench(report, args, fairnessSetting());
}
