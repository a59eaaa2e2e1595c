/**
 * `--workers N`: more event loops on the same port. Each worker is a
 * thread with its own Deno event loop and its own listener bound with
 * `SO_REUSEPORT`, so the Linux kernel spreads new connections across them.
 *
 * Threads rather than child processes, so that the binary needs no
 * permission to run programs: network permission is still the only one.
 *
 * @module
 */

import type { ServeSummary } from "./echo_server.ts";
import type { WorkerReport, WorkerSettings } from "./_worker_messages.ts";

export type { WorkerSettings } from "./_worker_messages.ts";

/** Running workers; {@linkcode stop} drains them. */
export interface EchoWorkers {
  /** Starts every worker's drain and resolves with their totals. */
  stop(): Promise<WorkerTotals[]>;
}

/** What one worker served, and the log lines it had to drop. */
export interface WorkerTotals {
  /** The worker's serving totals. */
  summary: ServeSummary;
  /** Log lines the worker dropped because stderr was not being read. */
  logLinesDropped: number;
}

/**
 * Starts `count` workers serving on `settings.port` and resolves once all
 * of them are listening.
 *
 * @param count How many workers (besides the main thread).
 * @param settings What to serve; `worker` numbers start at `settings.worker`.
 * @returns Handles to stop them.
 * @throws {Error} If a worker cannot listen.
 *
 * @example
 * ```ts
 * import { startEchoWorkers } from "./worker_pool.ts";
 * const workers = await startEchoWorkers(1, {
 *   host: "127.0.0.1", port: 7007, worker: 2, options: {}, log: {},
 *   budget: { limit: 1 << 26, counters: new SharedArrayBuffer(16) },
 * });
 * await workers.stop();
 * ```
 */
export async function startEchoWorkers(
  count: number,
  settings: WorkerSettings,
): Promise<EchoWorkers> {
  const started = Array.from({ length: count }, (_, i) => {
    const worker = new Worker(
      new URL("./_worker.ts", import.meta.url).href,
      {
        type: "module",
      },
    );
    const listening = Promise.withResolvers<void>();
    const stopped = Promise.withResolvers<WorkerTotals>();
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      const report = event.data;
      if (report.type === "listening") listening.resolve();
      if (report.type === "stopped") stopped.resolve(report);
      if (report.type === "failed") {
        const error = new Error(
          `Worker ${settings.worker + i} failed: ${report.message}`,
        );
        listening.reject(error);
        stopped.reject(error);
      }
    };
    // A worker that cannot even load (e.g. no read permission for its
    // module under `deno run`) reports here instead of crashing the server.
    worker.onerror = (event) => {
      event.preventDefault();
      const error = /Requires \w+ access/.test(event.message)
        ? new Deno.errors.NotCapable(
          `Worker ${settings.worker + i} cannot load: ${
            event.message.replace(/, run again.*$/, "")
          } (under deno run, --workers also needs --allow-read for lib/)`,
        )
        : new Error(`Worker ${settings.worker + i} failed: ${event.message}`);
      listening.reject(error);
      stopped.reject(error);
    };
    stopped.promise.catch(() => {}); // reported through `listening` or `stop()`
    worker.postMessage({ ...settings, worker: settings.worker + i });
    return { worker, listening: listening.promise, stopped: stopped.promise };
  });
  try {
    await Promise.all(started.map(({ listening }) => listening));
  } catch (error) {
    for (const { worker } of started) worker.terminate();
    throw error;
  }
  return {
    async stop(): Promise<WorkerTotals[]> {
      for (const { worker } of started) worker.postMessage("stop");
      const summaries = await Promise.all(
        started.map(({ stopped }) => stopped),
      );
      for (const { worker } of started) worker.terminate();
      return summaries;
    },
  };
}
