/**
 * `echo-server`: parse flags, serve until SIGINT/SIGTERM, drain, exit.
 * The work lives in `lib/`; this file wires the command line to
 * {@linkcode runServer}, and drops file access once listening.
 *
 * @module
 */

import {
  announceListening,
  dropFileAccess,
  ExitCode,
  HEALTH_HELP,
  healthCommand,
  onShutdownSignals,
  parseHealthArgs,
  parseServerArgs,
  runCommand,
  SERVER_HELP,
  serverOptions,
} from "./lib/cli/mod.ts";
import { runServer } from "./lib/server/mod.ts";

/**
 * Runs `echo-server` with `args`; `echo-server health` checks a running
 * server instead.
 *
 * @param args Command-line arguments, without the program name.
 * @returns The process exit code.
 */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "health") {
    return await runCommand(args.slice(1), {
      name: "echo-server health",
      help: HEALTH_HELP,
      parse: parseHealthArgs,
      run: healthCommand,
    });
  }
  return await runCommand(args, {
    name: "echo-server",
    help: SERVER_HELP,
    parse: parseServerArgs,
    async run(flags): Promise<number> {
      using shutdown = onShutdownSignals();
      await runServer({
        ...await serverOptions(flags),
        signal: shutdown.signal,
        onListening: async (listening) => {
          await announceListening(listening, flags);
          // Every thread listens and --tls-cert-out is written: no file
          // is touched after this (accepting on a Unix socket needs no
          // file permission, and Deno removes its file when the listener
          // closes). The drop holds in the Workers: they share permissions.
          dropFileAccess();
        },
      });
      return ExitCode.Ok;
    },
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
