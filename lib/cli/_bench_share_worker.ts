/**
 * A Worker that runs one thread's share of `echo-client bench --threads`
 * and sends its report back to be merged (see bench_threads.ts). Like the
 * single-thread bench Worker, it drops file access once the `--ca` file
 * is read.
 *
 * @module
 */

import { loadReportToData, runLoad } from "../bench/mod.ts";
import { fairnessSetting } from "../thread/mod.ts";
import type { BenchArgs } from "./bench_flags.ts";
import type { ShareResult } from "./bench_threads.ts";
import { loadOptions } from "./bench_task.ts";
import { dropFileAccess, fileAccessFor } from "./drop_file_access.ts";
import { serveResultTask } from "./fair_task.ts";

serveResultTask(
  async (args: BenchArgs, signal: AbortSignal): Promise<ShareResult> => {
    const load = await loadOptions(args);
    dropFileAccess({ keep: fileAccessFor(args.endpoint) });
    const report = await runLoad({ ...load, signal });
    return {
      report: loadReportToData(report),
      maxIoEventsPerTick: fairnessSetting(),
    };
  },
);
