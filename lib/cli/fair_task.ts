/**
 * Running a command's work in a Worker, where the runtime schedules its
 * sockets fairly (see fair_scheduling.ts in net/): `echo-client bench` and
 * `echo-client ping` measure latency, and a tail the runtime adds would be
 * reported as the server's.
 *
 * The main thread only starts the Worker, forwards Ctrl-C as a stop, and
 * returns the exit code the task returns; the task prints its own output.
 *
 * @module
 */

import { OutputClosedError, writeStderr } from "../log/mod.ts";
import { onInterrupt } from "./shutdown.ts";
import { DatagramTooLargeError } from "../net/mod.ts";
import {
  canStartWorker,
  errorToMessage,
  type FailedReport,
  FAIRNESS_VARIABLE,
  prepareFairWorkers,
  WorkerThread,
} from "../thread/mod.ts";
import { UsageError } from "./usage_error.ts";

/** A command's work: runs until done or until `signal` aborts. */
export type Task<Args> = (args: Args, signal: AbortSignal) => Promise<number>;

type TaskCommand<Args> =
  | { type: "run"; args: Args }
  | { type: "stop" }
  | { type: "loaded?" };
type TaskReport = { type: "done"; code: number };
type ResultReport<Result> =
  | { type: "result"; result: Result }
  | { type: "loaded" };

/** The folder a task Worker loads its modules from (`lib/`). */
const LIB = new URL("../", import.meta.url);

/**
 * Runs `task` with `args` in a Worker loaded from `module` (which calls
 * {@linkcode serveTask}), or in this thread, with a warning, when a Worker
 * cannot load (`deno run` without read permission for `lib/`).
 *
 * @param module The worker module.
 * @param task The same task, for this thread.
 * @param args The parsed flags; plain data.
 * @param signal Aborting it (Ctrl-C) asks the task to stop and report.
 * @returns The task's exit code.
 * @throws Whatever the task throws, rebuilt with its class.
 */
export async function runFairly<Args>(
  module: URL,
  task: Task<Args>,
  args: Args,
  signal: AbortSignal,
): Promise<number> {
  const fairness = prepareFairWorkers();
  if (!canStartWorker(LIB)) {
    writeStderr(
      `warning: no read permission for ${LIB.pathname}: running without fair scheduling, so latencies may include a runtime tail (run with --allow-read=lib --allow-env=${FAIRNESS_VARIABLE})\n`,
    );
    return await task(args, signal);
  }
  if (fairness === "no-permission") {
    writeStderr(
      `warning: no env permission for ${FAIRNESS_VARIABLE}: latencies may include a runtime tail (run with --allow-env=${FAIRNESS_VARIABLE})\n`,
    );
  }
  const thread = new WorkerThread<TaskCommand<Args>, TaskReport>(module, {
    UsageError,
    OutputClosedError,
    DatagramTooLargeError,
  });
  const stop = () => thread.post({ type: "stop" });
  signal.addEventListener("abort", stop, { once: true });
  try {
    const report = await thread.send({ type: "run", args });
    return report.code;
  } finally {
    signal.removeEventListener("abort", stop);
    thread.terminate();
  }
}

/**
 * A command that runs `task` fairly (see {@linkcode runFairly}), Ctrl-C
 * stopping it early: what `echo-client bench` and `ping` run.
 *
 * @param module The worker module, which serves `task`.
 * @param task The command's work.
 * @returns The command: parsed flags in, exit code out.
 */
export function fairCommand<Args>(
  module: URL,
  task: Task<Args>,
): (args: Args) => Promise<number> {
  return async (args) => {
    using interrupt = onInterrupt();
    return await runFairly(module, task, args, interrupt.signal);
  };
}

/**
 * Runs one task per element of `argsList`, each in a Worker of its own
 * (fairly scheduled, like {@linkcode runFairly}), side by side, and
 * resolves with their results in order; `signal` stops them all.
 *
 * @param module A Worker module that calls {@linkcode serveResultTask}.
 * @param argsList Each Worker's arguments.
 * @param signal Stops every task early; each still returns its result.
 * @returns The results.
 * @throws {UsageError} Without the permissions Workers need.
 */
export async function runInWorkers<Args, Result>(
  module: URL,
  argsList: Args[],
  signal: AbortSignal,
): Promise<Result[]> {
  prepareFairWorkers();
  if (!canStartWorker(LIB)) {
    throw new UsageError(
      `--threads: needs read permission for ${LIB.pathname} (run with --allow-read=lib)`,
    );
  }
  const threads = argsList.map(() =>
    new WorkerThread<TaskCommand<Args>, ResultReport<Result>>(module, {
      UsageError,
      OutputClosedError,
      DatagramTooLargeError,
    })
  );
  const stop = () => {
    for (const thread of threads) thread.post({ type: "stop" });
  };
  signal.addEventListener("abort", stop, { once: true });
  try {
    // Every Worker's modules are loaded before any task starts: a task
    // drops file access for the whole process, and a Worker still loading
    // its modules from lib/ would then fail to read them.
    await Promise.all(
      threads.map((thread) => thread.send({ type: "loaded?" })),
    );
    return await Promise.all(
      threads.map(async (thread, i) => {
        const report = await thread.send({
          type: "run",
          args: argsList[i] as Args,
        });
        if (report.type !== "result") throw new Error("Unexpected report");
        return report.result;
      }),
    );
  } finally {
    signal.removeEventListener("abort", stop);
    for (const thread of threads) thread.terminate();
  }
}

/**
 * In a Worker started by {@linkcode runInWorkers}: runs `task` on the
 * arguments it is sent and posts back its result.
 *
 * @param task The work.
 */
export function serveResultTask<Args, Result>(
  task: (args: Args, signal: AbortSignal) => Promise<Result>,
): void {
  serveWork(task, (result) => ({ type: "result", result }));
}

/**
 * The body of a task Worker: runs `task` with the arguments it is sent,
 * stops it when told, and reports the exit code or the error.
 *
 * @param task The command's work.
 */
export function serveTask<Args>(task: Task<Args>): void {
  serveWork(task, (code) => ({ type: "done", code }));
}

function serveWork<Args, Result, Report>(
  task: (args: Args, signal: AbortSignal) => Promise<Result>,
  report: (result: Result) => Report,
): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<TaskCommand<Args>>) => void) | null;
    postMessage(message: Report | FailedReport | { type: "loaded" }): void;
  };
  const stop = new AbortController();
  scope.onmessage = async (event) => {
    const command = event.data;
    if (command.type === "stop") return stop.abort();
    // Answered once this module, and so all the Worker's, has loaded.
    if (command.type === "loaded?") {
      return scope.postMessage({ type: "loaded" });
    }
    try {
      scope.postMessage(report(await task(command.args, stop.signal)));
    } catch (error) {
      scope.postMessage({ type: "failed", error: errorToMessage(error) });
    }
  };
}
