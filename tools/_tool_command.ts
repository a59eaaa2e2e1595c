/**
 * The frame the `deno task` tools run in, as the programs run in theirs:
 * `--help` prints the help and exits 0; a bad flag or value is one line,
 * `error: …`, and exit code 2; nothing ends in a stack trace.
 *
 * @module
 */

import {
  ExitCode,
  type FlagSpecs,
  HELP_FLAG,
  type ParsedFlags,
  parseFlags,
  UsageError,
} from "../lib/cli/mod.ts";
import { writeStderr, writeStdout } from "../lib/log/mod.ts";

/** A tool: its help, its flags, and what it does with them. */
export interface Tool {
  /** The `--help` text. */
  help: string;
  /** Its flags (`--help` is added). */
  flags: FlagSpecs;
  /**
   * Does the work; a `UsageError` (from `parseFlagValue`, say) becomes a
   * usage failure.
   */
  run(values: ParsedFlags["values"]): Promise<number>;
}

/**
 * Runs `tool` with `args` and returns the exit code.
 *
 * @param args The arguments after the task name.
 * @param tool The tool.
 * @returns 0 for help, what `run` returns, or 2 for bad usage.
 */
export async function runTool(args: string[], tool: Tool): Promise<number> {
  try {
    const { values, positionals } = parseFlags(args, {
      ...tool.flags,
      ...HELP_FLAG,
    });
    if (values.help) {
      writeStdout(tool.help);
      return ExitCode.Ok;
    }
    if (positionals.length > 0) {
      throw new UsageError(
        `Unexpected argument "${positionals[0]}": see --help`,
      );
    }
    return await tool.run(values);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    writeStderr(`error: ${error.message}\n`);
    return ExitCode.Usage;
  }
}
