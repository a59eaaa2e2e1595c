/**
 * The Worker that runs `echo-client bench`'s load (see fair_task.ts). It
 * drops the process's file access first (see drop_file_access.ts): its
 * modules are loaded by then, and the load reads no file.
 *
 * @module
 */

import type { BenchArgs } from "./bench_flags.ts";
import { benchTask } from "./bench_task.ts";
import { dropFileAccess, fileAccessFor } from "./drop_file_access.ts";
import { serveTask } from "./fair_task.ts";

serveTask((args: BenchArgs, signal: AbortSignal): Promise<number> =>
  // A Unix socket is opened by its path for every new connection: access
  // to it stays. The --ca file is read by then.
  benchTask(
    args,
    signal,
    () => dropFileAccess({ keep: fileAccessFor(args.endpoint) }),
  )
);
