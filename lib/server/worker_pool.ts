/**
 * Serving in Workers: one thread per `--workers`, each with its own Deno
 * event loop and its own listener bound with `SO_REUSEPORT`, so the Linux
 * kernel spreads new connections across them. Workers also schedule their
 * sockets fairly, which the main runtime cannot (see fair_scheduling.ts in
 * net/).
 *
 * Threads rather than child processes, so that the binary needs no
 * permission to run programs: network permission is still the only one.
 *
 * @module
 */

import type {
  ServiceAddresses,
  ServiceSettings,
  ServiceTotals,
} from "./echo_service.ts";
import { WorkerThread } from "../thread/mod.ts";
import type { WorkerCommand, WorkerReport } from "./_worker_messages.ts";

/** The worker module, and the folder everything it imports lives in. */
export const WORKER_MODULE = new URL("./_worker.ts", import.meta.url);
/** The folder a worker loads its modules from (`lib/`). */
export const WORKER_ROOT = new URL("../", import.meta.url);

/** Running workers. */
export interface EchoWorkers {
  /** Where the first worker listens (the others share its port). */
  addresses: ServiceAddresses;
  /** Resolves once every worker has stopped accepting. */
  stopAccepting(): Promise<void>;
  /** The scheduling setting the first worker's runtime started with. */
  maxIoEventsPerTick: string | undefined;
  /** Starts every worker's drain and resolves with their totals. */
  stop(): Promise<ServiceTotals[]>;
  /**
   * Resolves with the error of the first worker that fails after starting
   * (an uncaught error ends its thread, and its share of the port with
   * it); never rejects.
   */
  failed: Promise<Error>;
  /** Ends every worker at once, whatever it is doing. */
  terminate(): void;
}

/**
 * Starts `count` workers: the first listens as `settings` say (port 0 is
 * fine), the others on the port it was given, stream only.
 *
 * @param settings What to serve.
 * @param count How many workers, at least 1.
 * @param module The Worker's module: the serving one, unless a test
 * replaces it (with one that fails once started, say).
 * @returns Handles to stop them, once all listen.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 *
 * @example
 * ```ts
 * import { startEchoWorkers } from "./worker_pool.ts";
 * import { BufferBudget } from "./buffer_budget.ts";
 * import { ServerMetrics } from "./server_metrics.ts";
 * const budget = new BufferBudget(1 << 26);
 * const workers = await startEchoWorkers({
 *   options: { endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 0 } },
 *   shared: { budget: budget.toShared(), metrics: new ServerMetrics().toShared() },
 *   reusePort: false,
 * }, 1);
 * await workers.stop();
 * ```
 */
export async function startEchoWorkers(
  settings: ServiceSettings,
  count: number,
  module: URL = WORKER_MODULE,
): Promise<EchoWorkers> {
  const several = count > 1;
  const workers = [new WorkerThread<WorkerCommand, WorkerReport>(module)];
  try {
    const first = await workers[0]!.send({
      type: "start",
      settings: {
        ...settings,
        reusePort: several,
        ...(several && { worker: 1 }),
      },
    });
    const { addresses, maxIoEventsPerTick } = first as Extract<
      WorkerReport,
      { type: "listening" }
    >;
    const { endpoint } = settings.options;
    const port = (addresses.stream as Deno.NetAddr | undefined)?.port;
    if (several && port !== undefined && endpoint.transport === "tcp") {
      await Promise.all(
        Array.from({ length: count - 1 }, (_, i) => {
          const worker = new WorkerThread<WorkerCommand, WorkerReport>(module);
          workers.push(worker);
          return worker.send({
            type: "start",
            settings: {
              ...settings,
              // The port the first one was given; UDP is the first one's.
              options: {
                ...settings.options,
                endpoint: { ...endpoint, port },
                udp: false,
              },
              reusePort: true,
              worker: i + 2,
            },
          });
        }),
      );
    }
    let stopping: Promise<unknown> | undefined;
    const stopAccepting = async (): Promise<void> => {
      stopping ??= Promise.all(
        workers.map((worker) => worker.send({ type: "stop" })),
      );
      await stopping;
    };
    return {
      addresses,
      maxIoEventsPerTick,
      stopAccepting,
      terminate(): void {
        for (const worker of workers) worker.terminate();
      },
      failed: Promise.race(workers.map((worker) => worker.failed)),
      async stop(): Promise<ServiceTotals[]> {
        await stopAccepting();
        const reports = await Promise.all(
          workers.map((worker) => worker.next()),
        );
        for (const worker of workers) worker.terminate();
        return reports.map((report) =>
          (report as { totals: ServiceTotals }).totals
        );
      },
    };
  } catch (error) {
    for (const worker of workers) worker.terminate();
    throw error;
  }
}
