/**
 * `echo-client ping`'s work: the probes from its parsed flags, a line per
 * probe and the summary on stdout, and the exit code; run in a Worker for
 * fair scheduling (see fair_task.ts).
 *
 * @module
 */

import { writeStdout } from "../log/mod.ts";
import { formatAddress } from "../net/mod.ts";
import {
  formatProbe,
  formatSummary,
  type PingSummary,
  runPing,
  summaryToJson,
} from "../ping/mod.ts";
import { clientTlsOptions } from "./client_tls_flags.ts";
import { ExitCode } from "./exit_codes.ts";
import { fairCommand } from "./fair_task.ts";
import type { PingArgs } from "./ping_flags.ts";

/** The ping worker module. */
const PING_WORKER = new URL("./_ping_worker.ts", import.meta.url);

/**
 * Runs `echo-client ping` with `args` in a fairly scheduled Worker; Ctrl-C
 * stops the probes, and the summary still prints.
 *
 * @param args Parsed flags.
 * @returns The exit code: 0 only if every probe came back intact.
 */
export const pingCommand: (args: PingArgs) => Promise<number> = fairCommand(
  PING_WORKER,
  pingTask,
);

/**
 * The probes themselves: each printed as it ends (unless JSON), then the
 * summary.
 *
 * @param args Parsed flags.
 * @param signal Stops the probes early.
 * @param onFilesRead Called once the `--ca` file (if any) is read, before
 * the first probe: where file access can be dropped.
 * @returns The exit code.
 */
export async function pingTask(
  args: PingArgs,
  signal: AbortSignal,
  onFilesRead?: () => void,
): Promise<number> {
  const tls = args.tls === undefined
    ? undefined
    : await clientTlsOptions(args.tls);
  onFilesRead?.();
  const summary = await runPing({
    endpoint: args.endpoint,
    udp: args.udp,
    ...(tls !== undefined && { tls }),
    reconnect: args.reconnect,
    banner: args.banner,
    count: args.count,
    interval: args.interval,
    size: args.size,
    timeout: args.timeout,
    signal,
    ...(!args.json &&
      { onProbe: (probe) => writeStdout(formatProbe(probe) + "\n") }),
  });
  return reportPing(summary, args);
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
