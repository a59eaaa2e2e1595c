/**
 * A bounded queue of log lines written asynchronously, so that a stderr
 * nobody reads never blocks the event loop.
 *
 * A synchronous write to a full pipe blocks the whole thread: a supervisor
 * that stops reading, `2>&1 | head`, a stalled log shipper would freeze the
 * server, and SIGTERM with it. Here lines wait in memory (bounded) while
 * one write at a time runs in the runtime's blocking pool; when the queue
 * is full, new lines are dropped and counted, and once writing resumes a
 * line says how many were lost.
 *
 * @module
 */

/** Options for {@linkcode LineQueue}. */
export interface LineQueueOptions {
  /**
   * Most bytes of lines waiting to be written; lines beyond are dropped.
   * @default {262144}
   */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024;

/**
 * How long a process that is about to exit waits for its queued log lines
 * to be written: long enough for a slow reader, short enough that a stderr
 * nobody reads cannot hold up a shutdown.
 */
export const LOG_FLUSH_TIMEOUT_MS = 1_000;
/** Lines are written in batches of about this many bytes. */
const BATCH_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** Marks, in the queue, where lines were dropped. */
const DROPPED = Symbol("dropped");

/**
 * Queues lines for an asynchronous sink, one write at a time.
 *
 * @example
 * ```ts
 * import { LineQueue } from "./line_queue.ts";
 * const queue = new LineQueue((bytes) => Deno.stderr.write(bytes));
 * queue.write("hello\n");
 * await queue.flush(1_000);
 * ```
 */
export class LineQueue {
  /**
   * Formats the line that reports dropped lines once writing resumes,
   * e.g. as a log event in the logger's format.
   */
  describeDrops: (dropped: number) => string = (dropped) =>
    `${new Date().toISOString()} log-dropped lines=${dropped}\n`;

  /** Called for each dropped line, e.g. to count it in metrics. */
  onDrop: (() => void) | undefined;

  readonly #write: (bytes: Uint8Array) => Promise<number>;
  readonly #maxBytes: number;
  /** Lines to write; `DROPPED` marks where lines were lost. */
  #lines: (string | typeof DROPPED)[] = [];
  #queuedBytes = 0;
  #writing = false;
  #dropped = 0;
  #droppedSinceNotice = 0;
  #idle: PromiseWithResolvers<void> | undefined;

  /**
   * @param write Writes some of the bytes, like `Deno.stderr.write`.
   * @param options The queue's bound.
   */
  constructor(
    write: (bytes: Uint8Array) => Promise<number>,
    options: LineQueueOptions = {},
  ) {
    this.#write = write;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Lines dropped because the queue was full, since it was created. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Queues `line` (with its newline), or drops and counts it when the
   * queue is full. Never blocks.
   *
   * @param line The line.
   */
  write(line: string): void {
    if (this.#queuedBytes + line.length > this.#maxBytes) {
      // The first loss of a run marks its place; the notice is written
      // there, after the lines queued before it, once writing resumes.
      if (this.#droppedSinceNotice === 0) this.#lines.push(DROPPED);
      this.#dropped++;
      this.#droppedSinceNotice++;
      this.onDrop?.();
      return;
    }
    this.#lines.push(line);
    this.#queuedBytes += line.length;
    if (!this.#writing) this.#pump();
  }

  /**
   * Waits until every queued line is written, or `timeoutMs` passes (a
   * sink that never drains must not hold up an exit).
   *
   * @param timeoutMs The longest wait.
   * @returns Whether the queue emptied in time.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (!this.#writing) return true;
    // Held here: the pump clears the field when it finishes.
    const idle = this.#idle ??= Promise.withResolvers();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([
      idle.promise.then(() => true),
      timeout,
    ]);
    clearTimeout(timer);
    return done;
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#lines.length > 0) {
        const batch = this.#takeBatch();
        let written = 0;
        while (written < batch.length) {
          written += await this.#write(batch.subarray(written));
        }
      }
    } catch {
      // The sink is gone (stderr closed): nothing can be reported any more.
      this.#lines = [];
      this.#queuedBytes = 0;
      this.#droppedSinceNotice = 0;
    } finally {
      this.#writing = false;
      this.#idle?.resolve();
      this.#idle = undefined;
    }
  }

  #takeBatch(): Uint8Array {
    let text = "";
    while (this.#lines.length > 0 && text.length < BATCH_BYTES) {
      const line = this.#lines.shift() as string | typeof DROPPED;
      if (line === DROPPED) {
        text += this.describeDrops(this.#droppedSinceNotice);
        this.#droppedSinceNotice = 0;
      } else {
        text += line;
        this.#queuedBytes -= line.length;
      }
    }
    return encoder.encode(text);
  }
}

/**
 * The process's (this thread's) stderr as a {@linkcode LineQueue}: where
 * log events go by default.
 */
export const stderrLines: LineQueue = new LineQueue((bytes) =>
  Deno.stderr.write(bytes)
);
