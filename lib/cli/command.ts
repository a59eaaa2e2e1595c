/**
 * The frame every command runs in: parse the flags, answer `--help` and
 * `--version`, run, and turn any failure into one line on stderr and an
 * exit code.
 *
 * @module
 */

import { writeStdout } from "../log/mod.ts";
import { type Endpoint, formatAddress } from "../net/mod.ts";
import { ExitCode } from "./exit_codes.ts";
import { reportFailure } from "./failure.ts";
import { VERSION } from "./version.ts";

/**
 * What a command's parser returns: help, version, or the settings to run
 * with, under the command's own `kind` (`serve`, `echo`, `ping`, `bench`).
 */
export type ParsedCommand<Kind extends string, Args> =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: Kind; args: Args };

/** What every command's parsed flags have in common. */
export interface CommandArgs {
  /** The server, if the command has one: quoted in failure messages. */
  endpoint?: Endpoint;
  /** Failures print their stack trace too. */
  verbose?: boolean;
}

/** A command: its help, its parser, and what it runs. */
export interface Command<Args extends CommandArgs> {
  /** The program name shown by `--version`, e.g. `echo-server`. */
  name: string;
  /** The `--help` text. */
  help: string;
  /** Parses the arguments; throws a `UsageError` for bad ones. */
  parse(args: string[]): ParsedCommand<string, Args>;
  /** Does the work; resolves with the exit code. */
  run(args: Args): Promise<number>;
}

/**
 * Runs `command` with `args` and returns the exit code: `0` for help and
 * version, what `run` returns, or the code of the failure that ended it.
 *
 * @param args The arguments after the program (and subcommand) name.
 * @param command The command.
 * @returns The process exit code.
 *
 * @example
 * ```ts
 * import { runCommand } from "./command.ts";
 * const code = await runCommand(["--help"], {
 *   name: "demo",
 *   help: "demo: does nothing\n",
 *   parse: () => ({ kind: "help" }),
 *   run: () => Promise.resolve(0),
 * });
 * ```
 */
export async function runCommand<Args extends CommandArgs>(
  args: string[],
  command: Command<Args>,
): Promise<number> {
  // Deno maps an error's stack to the TypeScript source lazily, re-parsing
  // the module on first use; out of file descriptors, that parse panics
  // the runtime (a stack-size probe cannot open /proc/self/maps). Mapping
  // one stack now, while descriptors are free, keeps a later error under
  // exhaustion an ordinary error.
  void new Error().stack;
  let parsed: ParsedCommand<string, Args>;
  try {
    parsed = command.parse(args);
  } catch (error) {
    return reportFailure(error, "", false);
  }
  if (!("args" in parsed)) {
    writeStdout(
      parsed.kind === "help" ? command.help : `${command.name} ${VERSION}\n`,
    );
    return ExitCode.Ok;
  }
  try {
    return await command.run(parsed.args);
  } catch (error) {
    const { endpoint, verbose = false } = parsed.args;
    return reportFailure(
      error,
      endpoint === undefined ? "" : formatAddress(endpoint),
      verbose,
    );
  }
}
