/**
 * Command-line parsing shared by both programs: `node:util` `parseArgs`
 * with GNU-style long flags, and errors rewritten into our one-line style.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  type Endpoint,
  parseHost,
  parsePort,
  type ParsePortOptions,
  splitHostPort,
} from "../net/mod.ts";
import { UsageError } from "./usage_error.ts";

/** How one flag is declared: a string value, or a boolean switch. */
export interface FlagSpec {
  /** `"string"` takes a value (`--port 7007`, `--port=7007`). */
  type: "string" | "boolean";
  /** A one-letter alias, e.g. `"h"` for `--help`. */
  short?: string;
  /** May be given more than once; its value is then a list. */
  multiple?: boolean;
}

/** The flags a program accepts, by long name. */
export type FlagSpecs = Record<string, FlagSpec>;

/** `--host`, `--port` and `--unix`: where to listen or connect. */
export const ENDPOINT_FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  unix: { type: "string" },
} as const satisfies FlagSpecs;

/** `--quiet` and `--verbose`. */
export const OUTPUT_FLAGS = {
  quiet: { type: "boolean" },
  verbose: { type: "boolean" },
} as const satisfies FlagSpecs;

/** `-h`, `--help`. */
export const HELP_FLAG = {
  help: { type: "boolean", short: "h" },
} as const satisfies FlagSpecs;

/** `-V`, `--version`. */
export const VERSION_FLAG = {
  version: { type: "boolean", short: "V" },
} as const satisfies FlagSpecs;

/** The result of {@linkcode parseFlags}. */
export interface ParsedFlags {
  /** Flag values by long name; absent when not given (lists for `multiple`). */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Arguments that are not flags, in order. */
  positionals: string[];
}

/**
 * Parses `args` against `specs`, refusing unknown flags and missing values.
 *
 * A value that starts with `-` is kept as the value (`--port -1` means the
 * port "-1", which the caller then rejects by name) instead of being taken
 * for another flag.
 *
 * @param args The arguments after the program name.
 * @param specs The accepted flags.
 * @returns Flag values and positional arguments.
 * @throws {UsageError} For an unknown flag or a flag missing its value.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./flags.ts";
 * const { values } = parseFlags(["--port", "0"], { port: { type: "string" } });
 * values.port; // "0"
 * ```
 */
export function parseFlags(args: string[], specs: FlagSpecs): ParsedFlags {
  const joined = joinValues(args, specs);
  try {
    const { values, positionals } = parseArgs({
      args: joined,
      options: specs,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as ParsedFlags["values"], positionals };
  } catch (error) {
    throw new UsageError(rewordParseError(error));
  }
}

/** Rewrites `["--port", "-1"]` as `["--port=-1"]` so `-1` stays a value. */
function joinValues(args: string[], specs: FlagSpecs): string[] {
  const valued = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type !== "string") continue;
    valued.add(`--${name}`);
    if (spec.short) valued.add(`-${spec.short}`);
  }
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      joined.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (valued.has(arg) && next !== undefined && next.startsWith("-")) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

function rewordParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `Unknown flag "${unknown[1]}": see --help`;
  const missing = /^Option '(-\w, )?(--[\w-]+)[^']*' argument missing/.exec(
    message,
  );
  if (missing) return `Missing value for "${missing[2]}": see --help`;
  const noValue = /^Option '(--[\w-]+)' does not take an argument/.exec(
    message,
  );
  if (noValue) return `Flag "${noValue[1]}" takes no value: see --help`;
  return `${message.split("\n")[0]}: see --help`;
}

/**
 * Refuses arguments beyond the first `allowed` (a command that takes no
 * message or file takes none).
 *
 * @param positionals The arguments that are not flags.
 * @param allowed How many the command takes.
 * @throws {UsageError} Naming the first one too many.
 *
 * @example
 * ```ts
 * import { rejectExtraArguments } from "./flags.ts";
 * rejectExtraArguments([], 0); // fine
 * ```
 */
export function rejectExtraArguments(
  positionals: string[],
  allowed = 0,
): void {
  const extra = positionals[allowed];
  if (extra !== undefined) {
    throw new UsageError(`Unexpected argument "${extra}": see --help`);
  }
}

/**
 * Runs a flag value through `parse`, turning its error into a
 * {@linkcode UsageError} that names the flag, so users see which of several
 * flags was wrong.
 *
 * @param flag The long flag name, without dashes.
 * @param text The value as typed.
 * @param parse A parser that throws `TypeError`/`RangeError` on bad input.
 * @returns What `parse` returns.
 * @throws {UsageError} If `parse` throws.
 *
 * @example
 * ```ts
 * import { parseFlagValue } from "./flags.ts";
 * import { parseDuration } from "../log/units.ts";
 * parseFlagValue("timeout", "5s", parseDuration); // 5000
 * ```
 */
export function parseFlagValue<T>(
  flag: string,
  text: string,
  parse: (text: string) => T,
): T {
  try {
    return parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`--${flag}: ${reason}: see --help`);
  }
}

/**
 * Reads where to listen or connect from the flags every program takes:
 * `--host` (which may carry the port: `localhost:7007`, `[::1]:7007`),
 * `--port`, and `--unix PATH` for a Unix domain socket instead. Defaults:
 * loopback, port 7007.
 *
 * @param values Flag values from {@linkcode parseFlags}.
 * @param options Whether port 0 is allowed (servers) or not (clients).
 * @returns The endpoint; a host without IPv6 brackets.
 * @throws {UsageError} For an empty or malformed host, an invalid port, a
 * port given twice, or `--unix` combined with `--host`/`--port`.
 *
 * @example
 * ```ts
 * import { parseEndpointFlags } from "./flags.ts";
 * parseEndpointFlags({ host: "[::1]:7008" });
 * // { transport: "tcp", hostname: "::1", port: 7008 }
 * ```
 */
export function parseEndpointFlags(
  values: ParsedFlags["values"],
  options: ParsePortOptions = {},
): Endpoint {
  if (values.unix !== undefined) {
    if (values.host !== undefined || values.port !== undefined) {
      throw new UsageError(
        "--unix: cannot be combined with --host or --port: see --help",
      );
    }
    const path = String(values.unix);
    if (path === "") throw new UsageError("--unix: Empty path: see --help");
    return { transport: "unix", path };
  }
  const typed = String(values.host ?? DEFAULT_HOST);
  const { host, port: portInHost } = splitHostPort(typed);
  if (portInHost !== undefined && values.port !== undefined) {
    throw new UsageError(
      `--host: "${typed}" already has a port: drop --port or the port in --host`,
    );
  }
  const hostname = parseFlagValue("host", host, parseHost);
  const port = parseFlagValue(
    portInHost === undefined ? "port" : "host",
    portInHost ?? String(values.port ?? DEFAULT_PORT),
    (text) => parsePort(text, options),
  );
  return { transport: "tcp", hostname, port };
}
