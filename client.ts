/**
 * `echo-client`: send a message or stream stdin and verify the echo
 * (`echo-client [options] [MESSAGE...]`), measure a server under load
 * (`echo-client bench`), or probe it like ping (`echo-client ping`). The
 * work lives in `lib/`; this file wires each command line to its run
 * function (bench and ping run theirs in a Worker, for fair scheduling,
 * which drops file access) and drops file access once connected.
 *
 * @module
 */

import {
  BENCH_HELP,
  benchCommand,
  CLIENT_HELP,
  clientOptions,
  dropFileAccess,
  ExitCode,
  fileAccessFor,
  parseBenchArgs,
  parseClientArgs,
  parsePingArgs,
  PING_HELP,
  pingCommand,
  runCommand,
} from "./lib/cli/mod.ts";
import { runClient } from "./lib/client/mod.ts";

/**
 * Runs `echo-client` with `args`: `bench` and `ping` are subcommands.
 *
 * @param args Command-line arguments, without the program name.
 * @returns The process exit code.
 */
export async function main(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === "bench") {
    return await runCommand(rest, {
      name: "echo-client bench",
      help: BENCH_HELP,
      parse: parseBenchArgs,
      run: benchCommand,
    });
  }
  if (subcommand === "ping") {
    return await runCommand(rest, {
      name: "echo-client ping",
      help: PING_HELP,
      parse: parsePingArgs,
      run: pingCommand,
    });
  }
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
