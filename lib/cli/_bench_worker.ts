/**
 * The Worker that runs `echo-client bench`'s load (see fair_task.ts).
 *
 * @module
 */

import { benchTask } from "./bench_task.ts";
import { serveTask } from "./fair_task.ts";

serveTask(benchTask);
