/**
 * `echo-client`'s subcommands (`bench`, `ping`, `doctor`, `merge`), each from its
 * arguments to an exit code, for the entry script to look up by name.
 *
 * @module
 */

import { BENCH_HELP, parseBenchArgs } from "./bench_flags.ts";
import { benchCommand } from "./bench_task.ts";
import { runCommand } from "./command.ts";
import { doctorCommand } from "./doctor_command.ts";
import { DOCTOR_HELP, parseDoctorArgs } from "./doctor_flags.ts";
import { MERGE_HELP, mergeCommand, parseMergeArgs } from "./merge_command.ts";
import { parsePingArgs, PING_HELP } from "./ping_flags.ts";
import { pingCommand } from "./ping_task.ts";

/**
 * The subcommands by name (a Map: `toString` is no subcommand), each run
 * with the arguments after its name.
 */
export const CLIENT_SUBCOMMANDS: ReadonlyMap<
  string,
  (args: string[]) => Promise<number>
> = new Map([
  ["bench", (args: string[]) =>
    runCommand(args, {
      name: "echo-client bench",
      help: BENCH_HELP,
      parse: parseBenchArgs,
      run: benchCommand,
    })],
  ["ping", (args: string[]) =>
    runCommand(args, {
      name: "echo-client ping",
      help: PING_HELP,
      parse: parsePingArgs,
      run: pingCommand,
    })],
  ["doctor", (args: string[]) =>
    runCommand(args, {
      name: "echo-client doctor",
      help: DOCTOR_HELP,
      parse: parseDoctorArgs,
      run: doctorCommand,
    })],
  ["merge", (args: string[]) =>
    runCommand(args, {
      name: "echo-client merge",
      help: MERGE_HELP,
      parse: parseMergeArgs,
      run: mergeCommand,
    })],
]);
