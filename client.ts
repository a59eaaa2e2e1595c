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

import * as cli from "./lib/cli/mod.ts";
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
    return await cli.runCommand(rest, {
      name: "echo-client bench",
      help: cli.BENCH_HELP,
      parse: cli.parseBenchArgs,
      run: cli.benchCommand,
    });
  }
  if (subcommand === "ping") {
    return await cli.runCommand(rest, {
      name: "echo-client ping",
      help: cli.PING_HELP,
      parse: cli.parsePingArgs,
      run: cli.pingCommand,
    });
  }
  return await cli.runCommand(args, {
    name: "echo-client",
    help: cli.CLIENT_HELP,
    parse: cli.parseClientArgs,
    async run(flags): Promise<number> {
      using options = await cli.clientOptions(flags);
      // The --ca file is read: only connecting to a Unix socket still
      // needs file access, and nothing does once connected.
      cli.dropFileAccess({ keep: cli.fileAccessFor(flags.endpoint) });
      await runClient({
        ...options,
        onConnected: async (conn) => {
          cli.dropFileAccess();
          await options.onConnected?.(conn);
        },
      });
      return cli.ExitCode.Ok;
    },
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
