/**
 * `echo-client`: send a message or stream stdin and verify the echo
 * (`echo-client [options] [MESSAGE...]`), measure a server under load
 * (`echo-client bench`), probe it like ping (`echo-client ping`), or check
 * what the path to it does to a connection (`echo-client doctor`). The
 * work lives in `lib/`; this file wires each command line to its run
 * function (bench and ping run theirs in a Worker, for fair scheduling,
 * which drops file access) and drops file access once connected.
 *
 * @module
 */

import {
  CLIENT_HELP,
  CLIENT_SUBCOMMANDS,
  clientOptions,
  dropFileAccess,
  ExitCode,
  fileAccessFor,
  parseClientArgs,
  runCommand,
} from "./lib/cli/mod.ts";
import { runClient } from "./lib/client/mod.ts";

/**
 * Runs `echo-client` with `args`: `bench`, `ping` and `doctor` are
 * subcommands.
 *
 * @param args Command-line arguments, without the program name.
 * @returns The process exit code.
 */
export async function main(args: string[]): Promise<number> {
  const [first = "", ...rest] = args;
  const subcommand = CLIENT_SUBCOMMANDS.get(first);
  if (subcommand !== undefined) return await subcommand(rest);
  return await runCommand(args, {
    name: "echo-client",
    help: CLIENT_HELP,
    parse: parseClientArgs,
    async run(flags): Promise<number> {
      using options = await clientOptions(flags);
      // The --ca file is read: only connecting to a Unix socket still
      // needs file access, and nothing does once connected.
      dropFileAccess({ keep: fileAccessFor(flags.endpoint) });
      await runClient({
        ...options,
        onConnected: async (conn) => {
          dropFileAccess();
          await options.onConnected?.(conn);
        },
      });
      return ExitCode.Ok;
    },
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
