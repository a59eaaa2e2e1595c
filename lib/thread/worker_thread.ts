/**
 * One Worker and the conversation with it: commands posted in, reports
 * read out in order, and a failure (a `failed` report, or an uncaught
 * error that ends the Worker) turned back into the error it was, so that
 * the caller's exit code is the one the error calls for.
 *
 * @module
 */

import {
  type ErrorClasses,
  errorFromMessage,
  type ErrorMessage,
} from "./worker_errors.ts";

/** What a Worker sends when it fails. */
export interface FailedReport {
  /** Marks a failure. */
  type: "failed";
  /** The error, as plain data. */
  error: ErrorMessage;
}

/**
 * A Worker running `module`, which answers commands of type `Command`
 * with reports of type `Report` (or a {@linkcode FailedReport}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerThread } from "./worker_thread.ts";
 * const module = URL.createObjectURL(new Blob([
 *   "self.onmessage = (e) => self.postMessage({ type: 'twice', n: e.data.n * 2 });",
 * ], { type: "application/javascript" }));
 * const thread = new WorkerThread<{ n: number }, { type: "twice"; n: number }>(
 *   new URL(module),
 * );
 * assert.equal((await thread.send({ n: 21 })).n, 42);
 * thread.terminate();
 * URL.revokeObjectURL(module);
 * ```
 */
export class WorkerThread<Command, Report extends { type: string }> {
  /**
   * Resolves with the error once the Worker fails (it then does nothing
   * more); never rejects.
   */
  readonly failed: Promise<Error>;
  readonly #worker: Worker;
  readonly #classes: ErrorClasses;
  readonly #failed = Promise.withResolvers<Error>();
  /** Reports nobody has asked for yet. */
  readonly #inbox: (Report | FailedReport)[] = [];
  /** Callers waiting for a report. */
  readonly #waiting: ((report: Report | FailedReport) => void)[] = [];

  /**
   * Starts the Worker. Start it after the fairness setting is in the
   * environment (`prepareFairWorkers`): its runtime reads it once.
   *
   * @param module The Worker's module.
   * @param classes Error classes of the caller's own that a failure may
   * carry, by name, beyond the runtime's.
   */
  constructor(module: URL, classes: ErrorClasses = {}) {
    this.failed = this.#failed.promise;
    this.#classes = classes;
    this.#worker = new Worker(module.href, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<Report | FailedReport>) =>
      this.#deliver(event.data);
    // A Worker that cannot load, or dies of an uncaught error, reports
    // here instead of taking the process down.
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#deliver({
        type: "failed",
        error: { name: "Error", message: event.message },
      });
    };
  }

  /** Posts `command` without waiting for an answer. */
  post(command: Command): void {
    this.#worker.postMessage(command);
  }

  /**
   * Posts `command` and resolves with the next report.
   *
   * @param command What to do.
   * @returns The Worker's answer.
   * @throws The Worker's error, if it fails first.
   */
  send(command: Command): Promise<Report> {
    this.post(command);
    return this.next();
  }

  /**
   * The next report, in order.
   *
   * @returns The report.
   * @throws The Worker's error, if it failed (the Worker is then ended).
   */
  async next(): Promise<Report> {
    const report = this.#inbox.shift() ??
      await new Promise<Report | FailedReport>((resolve) =>
        this.#waiting.push(resolve)
      );
    if (report.type !== "failed") return report as Report;
    this.terminate();
    throw errorFromMessage((report as FailedReport).error, this.#classes);
  }

  /** Ends the Worker at once. */
  terminate(): void {
    this.#worker.terminate();
  }

  #deliver(report: Report | FailedReport): void {
    if (report.type === "failed") {
      this.#failed.resolve(
        errorFromMessage((report as FailedReport).error, this.#classes),
      );
    }
    const waiter = this.#waiting.shift();
    if (waiter === undefined) this.#inbox.push(report);
    else waiter(report);
  }
}
