/**
 * Builds `dist/echo-server` and `dist/echo-client` with `deno compile`.
 *
 *   deno task compile                  # this platform: dist/echo-server …
 *   deno task compile --target TRIPLE  # one platform: dist/echo-server-TRIPLE …
 *   deno task compile:all              # all six `deno compile --target` platforms
 *
 * The binaries get network permission, file access for the paths users
 * name (dropped once start-up is done), and env access to named variables
 * (see PERMISSIONS); no run or FFI access, no system access but the
 * server's hostname, and no prompting.
 * Everything they import is embedded at build time, the Worker modules
 * included.
 *
 * @module
 */

import { type ParsedFlags, UsageError } from "../lib/cli/mod.ts";
import { runTool } from "./_tool_command.ts";

/** The programs, by output name, with their entry scripts. */
export const PROGRAMS = {
  "echo-server": "server.ts",
  "echo-client": "client.ts",
} as const;

/** Every platform `deno compile --target` supports (Deno 2.9). */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
  "aarch64-pc-windows-msvc",
] as const;

/**
 * The permission flags baked into each binary (`deno task serve` and
 * `client` pass the same): network, plus file read and write because users
 * name files on the command line that the programs must open
 * (`--tls-cert`, `--tls-key`, `--ca`), create (`--tls-cert-out`, the
 * `--unix` socket) or remove (a stale `--unix` socket). A compiled binary
 * cannot ask for more at run time, and the paths are the user's, so they
 * cannot be narrowed here; instead each program revokes file access once
 * those files are done with (lib/cli/drop_file_access.ts). Env access is
 * for named variables only: `DENO_TOKIO_MAX_IO_EVENTS_PER_TICK`, which the
 * programs set for their Workers so that sockets are scheduled fairly
 * (lib/thread/fair_scheduling.ts), and for the server the three a
 * Kubernetes downward API sets for `--banner` and `/info` (`POD_NAME`,
 * `POD_NAMESPACE`, `NODE_NAME`); the server may also read the host's name
 * (`--allow-sys=hostname`) and no other system information. No other
 * environment, subprocess or FFI access.
 */
export const PERMISSIONS = {
  "echo-server": [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK,POD_NAME,POD_NAMESPACE,NODE_NAME",
    "--allow-sys=hostname",
  ],
  "echo-client": [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK",
  ],
} as const;

/**
 * Never ask for a permission on a terminal: a file access after the
 * programs dropped theirs then fails at once, instead of asking the user
 * and blocking its thread until someone answers (a revoked permission is
 * back to "prompt", not "denied"). `deno task serve` and `client` pass it
 * too.
 */
export const NO_PROMPT = "--no-prompt";

/**
 * Worker modules each program starts with `new Worker(url)`: `deno compile`
 * embeds only what is statically imported, so these must be included.
 */
export const WORKER_MODULES = {
  "echo-server": ["lib/server/_worker.ts"],
  "echo-client": [
    "lib/cli/_bench_worker.ts",
    "lib/cli/_bench_share_worker.ts",
    "lib/cli/_ping_worker.ts",
  ],
} as const;

/**
 * V8 flags each program is compiled with.
 *
 * The server: a 4 MiB young generation (the default grows to 16 MiB and
 * shrinks slowly) keeps RSS down after bursts of load: 88 vs 108 MiB after
 * 500 connections in ping-pong. 1 MiB saved 5 MiB more but, once the echo
 * moved into Workers, cost a tenth of the 500-connection ping-pong rate in
 * scavenges (0.50 vs 0.56 of C; experiments/README.md).
 *
 * The client: a young generation of at least 16 MiB, so the load
 * generator's short-lived objects die young. With V8's default, enough of
 * them outlive two scavenges to fill the old generation and bring a major
 * collection about once a second, each holding up every round trip in
 * flight: p99.9 14.5–15 ms vs 9–11 ms at 500 connections (experiments/README.md,
 * "Fairness"). V8 flags must be given when the process starts, so
 * `deno task client` passes the same flag.
 */
export const V8_FLAGS = {
  "echo-server": ["--max-semi-space-size=4"],
  "echo-client": ["--min-semi-space-size=16"],
} as const;

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * The `deno compile` arguments that build `program` into `output`.
 *
 * @param program `echo-server` or `echo-client`.
 * @param output Path of the executable to write.
 * @param target A `--target` triple, or undefined for this platform.
 * @returns Arguments for `deno`.
 */
export function compileArgs(
  program: keyof typeof PROGRAMS,
  output: string,
  target?: string,
): string[] {
  return [
    "compile",
    ...PERMISSIONS[program],
    NO_PROMPT,
    `--v8-flags=${V8_FLAGS[program].join(",")}`,
    ...WORKER_MODULES[program].flatMap((module) => [
      "--include",
      `${ROOT}${module}`,
    ]),
    ...(target === undefined ? [] : ["--target", target]),
    "--output",
    output,
    `${ROOT}${PROGRAMS[program]}`,
  ];
}

/**
 * Whether `deno compile`'s stderr says it could not fetch its base runtime
 * (`denort`), which it downloads on first use; offline machines fail here.
 *
 * @param stderr What `deno compile` printed.
 * @returns True for a runtime download failure.
 */
export function isRuntimeDownloadFailure(stderr: string): boolean {
  return /denort/.test(stderr) &&
    /(error sending request|Setting up base binary|dns error|download)/i.test(
      stderr,
    );
}

/**
 * Where `deno task compile` writes `program` for `target`.
 *
 * @param program `echo-server` or `echo-client`.
 * @param target A `--target` triple, or undefined for this platform.
 * @returns The path under `dist/`.
 */
export function outputPath(
  program: keyof typeof PROGRAMS,
  target?: string,
): string {
  const suffix = target === undefined ? "" : `-${target}`;
  const exe = target?.includes("windows") ? ".exe" : "";
  return `${ROOT}dist/${program}${suffix}${exe}`;
}

/**
 * Compiles both programs for each of `targets`.
 *
 * @param targets `--target` triples; undefined for this platform.
 * @returns 0, or 1 after the first failure (reported on stderr).
 */
export async function compile(
  targets: (string | undefined)[],
): Promise<number> {
  for (const target of targets) {
    for (const program of Object.keys(PROGRAMS) as (keyof typeof PROGRAMS)[]) {
      const output = outputPath(program, target);
      const result = await new Deno.Command(Deno.execPath(), {
        args: compileArgs(program, output, target),
        stdout: "inherit",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      await Deno.stderr.write(result.stderr);
      if (!result.success) {
        if (isRuntimeDownloadFailure(stderr)) {
          await Deno.stderr.write(new TextEncoder().encode(
            "error: deno compile could not download its base runtime (denort); " +
              "it needs internet access once, or DENORT_BIN pointing at a local denort\n",
          ));
        }
        return 1;
      }
    }
  }
  return 0;
}

const HELP =
  `deno task compile: dist/echo-server and dist/echo-client with deno compile

Usage: deno task compile [--target TRIPLE]
       deno task compile:all

Options:
  --target TRIPLE  Build for this platform, one of:
                   ${TARGETS.join(", ")}
  --all            Build for all of them
  -h, --help       Show this help

deno compile downloads its base runtime (denort) once per target; without
internet access set DENORT_BIN to a local denort.
`;

/** The targets the flags ask for; undefined stands for this platform. */
function targetsFrom(
  values: ParsedFlags["values"],
): (string | undefined)[] {
  if (values.all === true) return [...TARGETS];
  const target = values.target as string | undefined;
  if (target === undefined) return [undefined];
  if (!(TARGETS as readonly string[]).includes(target)) {
    throw new UsageError(
      `--target: Invalid target "${target}": expected one of ${
        TARGETS.join(", ")
      }`,
    );
  }
  return [target];
}

if (import.meta.main) {
  Deno.exit(
    await runTool(Deno.args, {
      help: HELP,
      flags: { target: { type: "string" }, all: { type: "boolean" } },
      run: (values) => compile(targetsFrom(values)),
    }),
  );
}
