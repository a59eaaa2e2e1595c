/**
 * `echo-server`: parse flags, serve until SIGINT/SIGTERM, drain, exit.
 * The work lives in `lib/`; this file wires the command line to
 * {@linkcode runServer}.
 *
 * @module
 */

import * as cli from "./lib/cli/mod.ts";
import { runServer } from "./lib/server/mod.ts";

/**
 * Runs `echo-server` with `args`.
 *
 * @param args Command-line arguments, without the program name.
 * @returns The process exit code.
 */
export async function main(args: string[]): Promise<number> {
  return await cli.runCommand(args, {
    name: "echo-server",
    help: cli.SERVER_HELP,
    parse: cli.parseServerArgs,
    async run(flags): Promise<number> {
      using shutdown = cli.onShutdownSignals();
      await runServer({
        ...await cli.serverOptions(flags),
        signal: shutdown.signal,
        onListening: (listening) => cli.announceListening(listening, flags),
      });
      return cli.ExitCode.Ok;
    },
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
