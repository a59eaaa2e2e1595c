/**
 * `echo-client bench --threads N`: the load split over N Workers, so that
 * one machine's cores can all load; their reports merged exactly
 * (histograms, not averaged percentiles) and printed as one.
 *
 * @module
 */

import {
  type LoadReportData,
  loadReportFromData,
  mergeLoadReports,
} from "../bench/mod.ts";
import type { BenchArgs } from "./bench_flags.ts";
import { reportBench } from "./bench_report.ts";
import { runInWorkers } from "./fair_task.ts";
import { onInterrupt } from "./shutdown.ts";

/** One thread's outcome. */
export interface ShareResult {
  report: LoadReportData;
  /** The scheduling setting its runtime saw. */
  maxIoEventsPerTick: string | undefined;
}

/** The Worker that runs one share. */
const SHARE_WORKER = new URL("./_bench_share_worker.ts", import.meta.url);

/**
 * Runs the load of `args` over `args.threads` Workers and prints the
 * merged report.
 *
 * @param args Parsed flags, `threads` above 1.
 * @returns The exit code, as for one thread.
 */
export async function benchThreadsCommand(args: BenchArgs): Promise<number> {
  using interrupt = onInterrupt();
  const results = await runInWorkers<BenchArgs, ShareResult>(
    SHARE_WORKER,
    splitLoad(args),
    interrupt.signal,
  );
  const merged = mergeLoadReports(
    results.map((result) => loadReportFromData(result.report)),
  );
  return reportBench(merged, args, results[0]?.maxIoEventsPerTick);
}

/**
 * Each thread's share: the connections (and `count`, and `rate`) split as
 * evenly as they go; never more threads than connections.
 *
 * @param args The whole load.
 * @returns One set of arguments per thread.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBenchArgs } from "./bench_flags.ts";
 * import { splitLoad } from "./bench_threads.ts";
 * const command = parseBenchArgs(["--threads", "2", "--connections", "5", "--count", "101"]);
 * assert(command.kind === "bench");
 * const shares = splitLoad(command.args);
 * assert.deepEqual(shares.map((s) => [s.connections, s.count]), [[3, 51], [2, 50]]);
 * ```
 */
export function splitLoad(args: BenchArgs): BenchArgs[] {
  const threads = Math.min(args.threads, args.connections);
  const part = (total: number, i: number) =>
    Math.floor(total / threads) + (i < total % threads ? 1 : 0);
  return Array.from({ length: threads }, (_, i) => {
    const connections = part(args.connections, i);
    return {
      ...args,
      threads: 1,
      connections,
      ...(args.count !== undefined && { count: part(args.count, i) }),
      ...(args.rate !== undefined &&
        { rate: args.rate * connections / args.connections }),
    };
  });
}
