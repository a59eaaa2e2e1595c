/**
 * SIGINT/SIGTERM as an `AbortSignal`: the first asks for a graceful
 * shutdown, a second one exits at once.
 *
 * @module
 */

import { ExitCode } from "./exit_codes.ts";

/**
 * A repeat of a signal within this long is the same request delivered
 * twice, not a second one. Ctrl-C in a terminal signals the whole
 * foreground process group, and `deno task` (like other launchers)
 * forwards the signal it got to its child as well, so a server under
 * `deno task serve` receives one Ctrl-C twice within a millisecond or
 * so; a person pressing Ctrl-C again takes far longer.
 */
export const REPEATED_SIGNAL_MS = 250;

/**
 * Calls `first` on the first signal and `again` on a later one that is
 * not a repeat (see {@link REPEATED_SIGNAL_MS}).
 */
function firstAndAgain(
  first: (signal: Deno.Signal) => void,
  again: (signal: Deno.Signal) => void,
): (signal: Deno.Signal) => void {
  let firstAt: number | undefined;
  return (signal) => {
    const now = performance.now();
    if (firstAt === undefined) {
      firstAt = now;
      first(signal);
    } else if (now - firstAt >= REPEATED_SIGNAL_MS) {
      again(signal);
    }
  };
}

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
 * A repeat within {@link REPEATED_SIGNAL_MS} is the first one relayed by
 * a launcher, and ignored.
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
  const onSignal = firstAndAgain(
    (signal) => stop.abort(signal),
    (signal) =>
      Deno.exit(
        signal === "SIGTERM" ? ExitCode.Terminated : ExitCode.Interrupted,
      ),
  );
  const listeners = signals.map((signal) => {
    const listener = () => onSignal(signal);
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
 * still report (bench, ping); a second Ctrl-C exits at once with 130 (a
 * repeat within {@link REPEATED_SIGNAL_MS} is ignored, as above).
 *
 * @returns The signal; dispose it to remove the listener.
 */
export function onInterrupt(): ShutdownSignal {
  const stop = new AbortController();
  const onSignal = firstAndAgain(
    () => stop.abort("SIGINT"),
    () => Deno.exit(ExitCode.Interrupted),
  );
  const listener = () => onSignal("SIGINT");
  Deno.addSignalListener("SIGINT", listener);
  return {
    signal: stop.signal,
    [Symbol.dispose]: () => Deno.removeSignalListener("SIGINT", listener),
  };
}
