/**
 * `echo-server health [URL]`: a health check in the binary, for images
 * with no shell and no curl (a Dockerfile's `HEALTHCHECK`, Compose): it
 * asks a running server's admin endpoint whether it is ready.
 *
 * @module
 */

import { type Endpoint, parseHost } from "../net/mod.ts";
import { writeStdout } from "../log/mod.ts";
import type { ParsedCommand } from "./command.ts";
import {
  HELP_FLAG,
  parseFlags,
  parseFlagValue,
  rejectExtraArguments,
} from "./flags.ts";
import { positiveDuration } from "./flag_values.ts";
import { ExitCode } from "./exit_codes.ts";

/** The URL asked when none is given: the admin port the image uses. */
export const DEFAULT_HEALTH_URL = "http://127.0.0.1:9090/readyz";

/** `echo-server health --help`. */
export const HEALTH_HELP =
  `echo-server health: is a running server ready? (for HEALTHCHECK)

Usage: echo-server health [options] [URL]

Asks URL (default: ${DEFAULT_HEALTH_URL}, the admin endpoint's
readiness) and exits 0 if it answers 200, else 1: while starting, draining
(after SIGTERM) or stopped. Prints nothing unless --verbose.

Options:
  --timeout DURATION   Longest wait for the answer (default: 2s)
  --verbose            Print the answer's status line, or why there is none
  -h, --help           Show this help

Exit codes: 0 ready, 1 not ready or no answer, 2 usage.
`;

/** What `echo-server health` needs. */
export interface HealthArgs {
  /** The URL's host and port, for messages. */
  endpoint: Endpoint;
  /** What to ask. */
  url: URL;
  /** Longest wait, in ms. */
  timeout: number;
  /** Print what it found. */
  verbose: boolean;
}

/**
 * Parses the arguments after `echo-server health`.
 *
 * @param args The arguments after `health`.
 * @returns Help, or the settings.
 * @throws {UsageError} For a URL that is not http://HOST:PORT/PATH.
 */
export function parseHealthArgs(
  args: string[],
): ParsedCommand<"health", HealthArgs> {
  const { values, positionals } = parseFlags(args, {
    timeout: { type: "string" },
    verbose: { type: "boolean" },
    ...HELP_FLAG,
  });
  if (values.help) return { kind: "help" };
  rejectExtraArguments(positionals, 1);
  const url = parseFlagValue(
    "url",
    positionals[0] ?? DEFAULT_HEALTH_URL,
    (text) => {
      const parsed = URL.canParse(text) ? new URL(text) : undefined;
      if (parsed?.protocol !== "http:") {
        throw new TypeError(
          `Invalid URL "${text}": expected http://HOST:PORT/PATH`,
        );
      }
      return parsed;
    },
  );
  const hostname = parseHost(url.hostname.replace(/^\[|\]$/g, ""));
  return {
    kind: "health",
    args: {
      endpoint: {
        transport: "tcp",
        hostname,
        port: Number(url.port || 80),
      },
      url,
      timeout: parseFlagValue(
        "timeout",
        (values.timeout as string | undefined) ?? "2s",
        positiveDuration,
      ),
      verbose: values.verbose === true,
    },
  };
}

/**
 * Asks the URL and maps the answer to the exit code.
 *
 * @param args Parsed flags.
 * @returns 0 for a 200 answer, else 1.
 */
export async function healthCommand(args: HealthArgs): Promise<number> {
  let status: number | undefined;
  let why = "";
  try {
    const response = await fetch(args.url, {
      signal: AbortSignal.timeout(args.timeout),
    });
    await response.body?.cancel();
    status = response.status;
    why = `${response.status} ${response.statusText}`;
  } catch (error) {
    why = `no answer: ${
      error instanceof Error ? error.message : String(error)
    }`;
  }
  if (args.verbose) writeStdout(`${args.url.href}: ${why}\n`);
  return status === 200 ? ExitCode.Ok : ExitCode.EchoMismatch;
}
