/**
 * The Worker that runs `echo-client ping`'s probes (see fair_task.ts). It
 * drops the process's file access first (see drop_file_access.ts): its
 * modules are loaded by then.
 *
 * @module
 */

import { dropFileAccess, fileAccessFor } from "./drop_file_access.ts";
import type { PingArgs } from "./ping_flags.ts";
import { pingTask } from "./ping_task.ts";
import { serveTask } from "./fair_task.ts";

serveTask((args: PingArgs, signal: AbortSignal): Promise<number> => {
  // A Unix socket is opened by its path for every new connection, and
  // pingTask reads the --ca file itself, later: read stays for it.
  dropFileAccess({
    keep: [
      ...fileAccessFor(args.endpoint),
      ...(args.tls?.caFile === undefined ? [] : ["read" as const]),
    ],
  });
  return pingTask(args, signal);
});
