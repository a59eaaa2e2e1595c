/**
 * Calls `onExpire` once nothing has called `touch()` for `timeoutMs`.
 *
 * Built for hot loops: `touch()` only records a timestamp. The single
 * underlying timer is re-armed when it fires early, instead of being reset
 * on every read, which would cost a timer op per chunk.
 */
export class IdleTimer implements Disposable {
  readonly #timeoutMs: number;
  readonly #onExpire: () => void;
  #lastActivity = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expired = false;

  /**
   * @param timeoutMs How long without `touch()` counts as idle, in ms.
   * @param onExpire Called once when idle; call `restart()` to keep going.
   */
  constructor(timeoutMs: number, onExpire: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onExpire = onExpire;
    this.#arm(timeoutMs);
  }

  /** Whether `onExpire` has been called since the last `restart()`. */
  get expired(): boolean {
    return this.#expired;
  }

  /** Records activity: the idle period starts again from now. */
  touch(): void {
    this.#lastActivity = performance.now();
  }

  /** Starts a fresh idle period after expiry (or at any time). */
  restart(): void {
    this.touch();
    this.#expired = false;
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#check(), delayMs);
  }

  #check(): void {
    const idleMs = performance.now() - this.#lastActivity;
    if (idleMs < this.#timeoutMs) {
      this.#arm(this.#timeoutMs - idleMs);
      return;
    }
    this.#timer = undefined;
    this.#expired = true;
    this.#onExpire();
  }

  /** Stops the timer; `onExpire` will not be called. */
  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
