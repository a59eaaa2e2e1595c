/**
 * SIGINT/SIGTERM as an `AbortSignal`: the first asks for a graceful
 * shutdown, a second one exits at once.
 *
 * @module
 */

import { ExitCode } from "./exit_codes.ts";

/** A shutdown request, from the first signal; disposing stops listening. */
export interface ShutdownSignal extends Disposable {
  /** Aborts on the first signal, with the signal's name as the reason. */
  signal: AbortSignal;
}

/**
 * Listens for the signals that ask for a graceful shutdown (SIGINT and
 * SIGTERM; SIGINT and SIGBREAK on Windows). The first aborts the returned
 * signal; a second exits the process at once with 130 (SIGINT) or 143
 * (SIGTERM), for when the drain takes too long for the person waiting.
 *
 * @returns The signal; dispose it to remove the listeners.
 *
 * @example
 * ```ts
 * import { onShutdownSignals } from "./shutdown.ts";
 * using shutdown = onShutdownSignals();
 * shutdown.signal.addEventListener("abort", () => console.log("draining"));
 * ```
 */
export function onShutdownSignals(): ShutdownSignal {
  const stop = new AbortController();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => {
    const listener = () => {
      if (!stop.signal.aborted) return stop.abort(signal);
      Deno.exit(
        signal === "SIGTERM" ? ExitCode.Terminated : ExitCode.Interrupted,
      );
    };
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  return {
    signal: stop.signal,
    [Symbol.dispose](): void {
      for (const { signal, listener } of listeners) {
        Deno.removeSignalListener(signal, listener);
      }
    },
  };
}

/**
 * Ctrl-C (SIGINT) as an `AbortSignal`, for commands that stop early and
 * still report (bench, ping); a second Ctrl-C exits at once with 130.
 *
 * @returns The signal; dispose it to remove the listener.
 */
export function onInterrupt(): ShutdownSignal {
  const stop = new AbortController();
  const listener = () => {
    if (!stop.signal.aborted) return stop.abort("SIGINT");
    Deno.exit(ExitCode.Interrupted);
  };
  Deno.addSignalListener("SIGINT", listener);
  return {
    signal: stop.signal,
    [Symbol.dispose]: () => Deno.removeSignalListener("SIGINT", listener),
  };
}
