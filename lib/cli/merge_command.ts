/**
 * `echo-client merge FILE...`: the `bench --json` results of loads that
 * ran side by side (on several machines, or pods of a Kubernetes Job) as
 * one report. Rates add; percentiles come from the merged histograms.
 *
 * @module
 */

import {
  formatReport,
  type LoadReport,
  mergeLoadReports,
  reportFromJson,
  reportToJson,
} from "../bench/mod.ts";
import { writeStdout } from "../log/mod.ts";
import type { CommandArgs, ParsedCommand } from "./command.ts";
import { ExitCode } from "./exit_codes.ts";
import { HELP_FLAG, parseFlags } from "./flags.ts";
import { UsageError } from "./usage_error.ts";

/** `echo-client merge --help`. */
export const MERGE_HELP =
  `echo-client merge: bench results from several machines as one report

Usage: echo-client merge [options] [FILE...]

Reads the JSON of "echo-client bench --json" runs: one object per line (with
--interval, only the summaries count), from each FILE, or stdin without one
or for "-". Prints one report for all of them: connections, counts and rates
add, the time is the longest, and the percentiles come from the merged
histograms (exact, never averaged).

Options:
  --json       One JSON object on stdout instead of the table
  -h, --help   Show this help

Exit codes: 0 a clean merged run, 1 errors or mismatches in it, 2 usage or
input that is not bench JSON.
`;

/** What `echo-client merge` needs. */
export interface MergeArgs extends CommandArgs {
  /** The files to read; empty or `-`: stdin. */
  files: string[];
  /** JSON output. */
  json: boolean;
}

/**
 * Parses the arguments after `echo-client merge`.
 *
 * @param args The arguments after `merge`.
 * @returns Help, or the settings.
 */
export function parseMergeArgs(
  args: string[],
): ParsedCommand<"merge", MergeArgs> {
  const { values, positionals } = parseFlags(args, {
    json: { type: "boolean" },
    ...HELP_FLAG,
  });
  if (values.help) return { kind: "help" };
  return {
    kind: "merge",
    args: { files: positionals, json: values.json === true },
  };
}

/**
 * Reads the results, merges them and prints the report.
 *
 * @param args Parsed flags.
 * @returns The exit code.
 * @throws {UsageError} For a file that cannot be read, or a line that is not
 * a bench result.
 */
export async function mergeCommand(args: MergeArgs): Promise<number> {
  const sources = args.files.length === 0 ? ["-"] : args.files;
  const reports: LoadReport[] = [];
  for (const source of sources) {
    let text: string;
    try {
      text = source === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(source);
    } catch (error) {
      throw new UsageError(
        `Cannot read "${source}": ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    for (const [index, line] of text.split("\n").entries()) {
      if (line.trim() === "") continue;
      try {
        const json = JSON.parse(line);
        if (json.type === "interval") continue;
        reports.push(reportFromJson(json));
      } catch (error) {
        throw new UsageError(
          `${source}:${index + 1}: not a bench --json result: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
    }
  }
  if (reports.length === 0) throw new UsageError("No bench results to merge");
  const merged = mergeLoadReports(reports);
  writeStdout(
    args.json
      ? JSON.stringify({ runs: reports.length, ...reportToJson(merged) }) + "\n"
      : `runs           ${reports.length}\n${formatReport(merged)}`,
  );
  return merged.errors + merged.mismatches === 0 && merged.completed > 0
    ? ExitCode.Ok
    : ExitCode.EchoMismatch;
}
