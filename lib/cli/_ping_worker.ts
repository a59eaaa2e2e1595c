/**
 * The Worker that runs `echo-client ping`'s probes (see fair_task.ts).
 *
 * @module
 */

import { pingTask } from "./ping_task.ts";
import { serveTask } from "./fair_task.ts";

serveTask(pingTask);
