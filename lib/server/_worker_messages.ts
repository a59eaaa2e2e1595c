/**
 * The messages between the main thread and a serving Worker.
 *
 * @module
 */

import type { ErrorMessage } from "../thread/mod.ts";
import type {
  ServiceAddresses,
  ServiceSettings,
  ServiceTotals,
} from "./echo_service.ts";

/** What the main thread tells a worker. */
export type WorkerCommand =
  | { type: "start"; settings: ServiceSettings }
  | { type: "stop" };

/** What a worker reports back. */
export type WorkerReport =
  | {
    type: "listening";
    addresses: ServiceAddresses;
    maxIoEventsPerTick: string | undefined;
  }
  /** Answer to `stop`: no more accepting; `stopped` follows the drain. */
  | { type: "draining" }
  | { type: "stopped"; totals: ServiceTotals }
  /** The error, rebuilt by the main thread so its exit code stays right. */
  | { type: "failed"; error: ErrorMessage };
