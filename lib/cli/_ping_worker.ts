/**
 * The Worker that runs `echo-client ping`'s probes (see fair_task.ts). It
 * drops the process's file access (see drop_file_access.ts) once the
 * `--ca` file is read: its modules are loaded by then.
 *
 * @module
 */

import { dropFileAccess, fileAccessFor } from "./drop_file_access.ts";
import type { PingArgs } from "./ping_flags.ts";
import { pingTask } from "./ping_task.ts";
import { serveTask } from "./fair_task.ts";

serveTask((args: PingArgs, signal: AbortSignal): Promise<number> =>
  // A Unix socket is opened by its path for every new connection: access
  // to it stays. The --ca file is read by then.
  pingTask(
    args,
    signal,
    () => dropFileAccess({ keep: fileAccessFor(args.endpoint) }),
  )
);
