/**
 * From `echo-client ping`'s parsed flags to {@linkcode runPing}'s options,
 * and from its summary to stdout and an exit code.
 *
 * @module
 */

import { writeStdout } from "../log/mod.ts";
import { formatAddress } from "../net/mod.ts";
import {
  formatProbe,
  formatSummary,
  type PingOptions,
  type PingSummary,
  summaryToJson,
} from "../ping/mod.ts";
import { clientTlsOptions } from "./client_options.ts";
import { ExitCode } from "./exit_codes.ts";
import type { PingArgs } from "./ping_flags.ts";

/**
 * The options `runPing` takes for `args`: Ctrl-C stops the probes (the
 * summary still prints), and each probe is printed as it ends unless the
 * output is JSON. Disposing them stops listening for Ctrl-C.
 *
 * @param args Parsed flags.
 * @returns Options for `runPing`, disposable.
 */
export async function pingOptions(
  args: PingArgs,
): Promise<PingOptions & Disposable> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return {
      endpoint: args.endpoint,
      udp: args.udp,
      ...(args.tls !== undefined && { tls: await clientTlsOptions(args.tls) }),
      reconnect: args.reconnect,
      count: args.count,
      interval: args.interval,
      size: args.size,
      timeout: args.timeout,
      signal: stop.signal,
      ...(!args.json &&
        { onProbe: (probe) => writeStdout(formatProbe(probe) + "\n") }),
      [Symbol.dispose]: () => Deno.removeSignalListener("SIGINT", onInterrupt),
    };
  } catch (error) {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    throw error;
  }
}

/**
 * Prints the summary (text or JSON) and returns the exit code: 0 only if
 * every probe came back intact.
 *
 * @param summary What the probes measured.
 * @param args Parsed flags.
 * @returns The exit code.
 */
export function reportPing(summary: PingSummary, args: PingArgs): ExitCode {
  const target = `${args.udp ? "udp " : args.tls ? "tls " : ""}${
    formatAddress(args.endpoint)
  }`;
  writeStdout(
    args.json
      ? JSON.stringify(summaryToJson(target, summary)) + "\n"
      : formatSummary(target, summary),
  );
  return summary.sent > 0 && summary.received === summary.sent
    ? ExitCode.Ok
    : ExitCode.EchoMismatch;
}
