/**
 * `deno task bench [--c-peer PATH] [--c-load PATH]`: starts our server
 * and, when it is there, the C epoll echo server of the team's measuring kit
 * (`../shared/bench/peers/c_epoll_echo`, built by its build.sh; or the
 * binary `--c-peer` names, run as `PATH PORT 127.0.0.1`), loads each with
 * `echo-client bench` across a small fixed matrix, and prints one markdown
 * table with ours and C side by side: rates, and p99 and p99.9 for every
 * ping-pong cell, so a regression in the tail shows at once.
 *
 * Servers run on CPU 0 and the load generator on CPU 1 when `taskset` is
 * available and the machine has two or more. Both servers are measured in
 * each cell back to back, so a change of the machine's speed hits both.
 * Each cell runs 3 s per server after a 0.5 s warm-up; the whole run takes
 * about 50 s. For Bun and Node, see experiments/README.md.
 *
 * When the kit's C load generator is there too
 * (`../shared/bench/echoload`, or `--c-load PATH`), a second table puts
 * `echo-client bench` next to it in the 500-connection ping-pong cell
 * against the C server, so a tail of our load generator's own shows at once.
 *
 * @module
 */

import type { ParsedFlags } from "../lib/cli/mod.ts";
import { runTool } from "./_tool_command.ts";
import { V8_FLAGS } from "./compile.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const KIT_C_PEER =
  new URL("../../shared/bench/peers/c_epoll_echo", import.meta.url)
    .pathname;
const KIT_C_LOAD = new URL("../../shared/bench/echoload", import.meta.url)
  .pathname;
const CELL_SECONDS = 3;
const FAIRNESS = "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK";

/** The cell both load generators run against the C server. */
const PING_PONG_500 = "ping-pong 500 × 1 KiB";

/** One row of the matrix: a name and the `echo-client bench` flags. */
const CELLS: [string, string[]][] = [
  ["ping-pong 1 × 64 B", ["--connections", "1", "--size", "64"]],
  ["ping-pong 50 × 64 B", ["--connections", "50", "--size", "64"]],
  [PING_PONG_500, ["--connections", "500", "--size", "1KiB"]],
  ["stream 8 × 64 KiB", [
    "--mode",
    "stream",
    "--connections",
    "8",
    "--size",
    "64KiB",
  ]],
  ["connect 8 × 64 B", [
    "--mode",
    "connect",
    "--connections",
    "8",
    "--size",
    "64",
  ]],
];

function canPin(): boolean {
  if (navigator.hardwareConcurrency < 2) return false;
  try {
    return new Deno.Command("taskset", { args: ["-c", "0", "true"] })
      .outputSync().success;
  } catch {
    return false;
  }
}

function pinned(
  cpu: number,
  command: string[],
  pin: boolean,
): [string, string[]] {
  const all = pin ? ["taskset", "-c", String(cpu), ...command] : command;
  return [all[0] as string, all.slice(1)];
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A free loopback port (for the C server, which cannot print its own). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** The fields of `echo-client bench --json` this table shows. */
interface BenchReport {
  mode: string;
  "per_s": number;
  "mb_per_s": number;
  errors: number;
  mismatches: number;
  "latency_us": { p99: number; p999: number } | null;
}

/** A running server and its port. */
interface Server extends AsyncDisposable {
  port: number;
}

async function startOurs(pin: boolean): Promise<Server> {
  const [program, args] = pinned(0, [
    Deno.execPath(),
    "run",
    "--allow-net",
    `--allow-read=${ROOT}lib`,
    FAIRNESS,
    `--v8-flags=${V8_FLAGS["echo-server"].join(",")}`,
    `${ROOT}server.ts`,
    "--port",
    "0",
    "--quiet",
  ], pin);
  const child = new Deno.Command(program, {
    args,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  const { value: firstLine = "" } = await reader.read();
  await reader.cancel();
  const port = Number(/listening on .*:(\d+)/.exec(firstLine)?.[1]);
  if (!port) throw new Error(`server did not start: ${firstLine}`);
  return { port, [Symbol.asyncDispose]: () => stop(child) };
}

async function startC(path: string, pin: boolean): Promise<Server> {
  const port = freePort();
  const [program, args] = pinned(0, [path, String(port), "127.0.0.1"], pin);
  const child = new Deno.Command(program, {
    args,
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Ready once it accepts a connection.
  for (let attempt = 0;; attempt++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (error) {
      if (attempt === 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { port, [Symbol.asyncDispose]: () => stop(child) };
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await child.status;
}

/** One `echo-client bench --json` run against `port`. */
async function bench(
  port: number,
  flags: string[],
  pin: boolean,
): Promise<BenchReport> {
  const [client, clientArgs] = pinned(1, [
    Deno.execPath(),
    "run",
    "--allow-net",
    `--allow-read=${ROOT}lib`,
    FAIRNESS,
    `--v8-flags=${V8_FLAGS["echo-client"].join(",")}`,
    `${ROOT}client.ts`,
    "bench",
    "--port",
    String(port),
    "--duration",
    `${CELL_SECONDS}s`,
    "--json",
    "--quiet",
    ...flags,
  ], pin);
  const output = await new Deno.Command(client, {
    args: clientArgs,
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/**
 * The C load generator in the `PING_PONG_500` cell against `port`, its
 * report in the shape of ours. Its half-second warm-up is not measured.
 */
async function echoload(
  path: string,
  port: number,
  pin: boolean,
): Promise<BenchReport> {
  const [program, args] = pinned(1, [
    path,
    ...["--host", "127.0.0.1", "--port", String(port)],
    ...["--mode", "pingpong", "--conns", "500", "--size", "1024"],
    ...["--duration", String(CELL_SECONDS), "--warmup", "0.5"],
  ], pin);
  const output = await new Deno.Command(program, { args, stderr: "null" })
    .output();
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  return {
    mode: "ping-pong",
    per_s: report.rtt_per_s,
    mb_per_s: report.mb_per_s,
    errors: report.errors,
    mismatches: report.mismatches,
    latency_us: { p99: report.lat_us.p99, p999: report.lat_us.p999 },
  };
}

/** The second table: our load generator next to the C one. */
function loadGeneratorRows(ours: BenchReport, c: BenchReport): string[] {
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? "-" : `${(a / b).toFixed(2)}×`;
  return [
    `\nLoad generators against the C server, ${PING_PONG_500} (target: rate ≥ 0.6×, p99.9 ≤ 3× echoload's):\n`,
    "| load generator | rate | p99 | p99.9 | errors |",
    "|---|---|---|---|---|",
    ...([["echo-client bench", ours], ["echoload (C)", c]] as const).map((
      [name, report],
    ) =>
      `| ${name} | ${rate(report)} | ${ms(report.latency_us?.p99)} | ${
        ms(report.latency_us?.p999)
      } | ${report.errors + report.mismatches} |`
    ),
    `| ours / echoload | ${ratio(ours.per_s, c.per_s)} | ${
      ratio(ours.latency_us?.p99, c.latency_us?.p99)
    } | ${ratio(ours.latency_us?.p999, c.latency_us?.p999)} | |`,
  ];
}

const ms = (micros: number | undefined): string =>
  micros === undefined ? "-" : `${(micros / 1000).toFixed(2)} ms`;

function rate(report: BenchReport): string {
  return report.mode === "stream"
    ? `${report.mb_per_s.toFixed(0)} MB/s`
    : `${Math.round(report.per_s).toLocaleString("en-US")}/s`;
}

const HELP =
  `deno task bench: our server and the C epoll server of the measuring kit
(../shared/bench, when it is built) under echo-client bench, side by side

Usage: deno task bench [--c-peer PATH] [--c-load PATH]

Options:
  --c-peer PATH   The C echo server to compare with, run as PATH PORT 127.0.0.1
                  (default: ../shared/bench/peers/c_epoll_echo, if built)
  --c-load PATH   The kit's C load generator, for a second table that puts
                  echo-client bench next to it (default: ../shared/bench/echoload)
  -h, --help      Show this help

Prints markdown tables: rates, p99 and p99.9 per cell. Exit codes: 0 done,
1 a load run failed, 2 usage.
`;

function main(args: string[]): Promise<number> {
  return runTool(args, {
    help: HELP,
    flags: { "c-peer": { type: "string" }, "c-load": { type: "string" } },
    run: compareServers,
  });
}

/** The benchmark, with the flags' values; the exit code. */
async function compareServers(
  values: ParsedFlags["values"],
): Promise<number> {
  const cPath = (values["c-peer"] as string | undefined) ??
    (exists(KIT_C_PEER) ? KIT_C_PEER : undefined);
  const cLoadPath = (values["c-load"] as string | undefined) ??
    (exists(KIT_C_LOAD) ? KIT_C_LOAD : undefined);
  const pin = canPin();
  await using ours = await startOurs(pin);
  await using c = cPath === undefined ? undefined : await startC(cPath, pin);
  const header = [
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ${
      pin ? "servers on CPU 0, load on CPU 1" : "no pinning"
    }, ${CELL_SECONDS} s per cell and server; load generator: echo-client bench${
      c === undefined
        ? "; C server: not found (build ../shared/bench or pass --c-peer PATH)"
        : `; C server: ${cPath}`
    }\n`,
    c === undefined
      ? "| cell | rate | p99 | p99.9 | errors |"
      : "| cell | rate ours / C | ratio | p99 ours / C | p99.9 ours / C | errors |",
    c === undefined ? "|---|---|---|---|---|" : "|---|---|---|---|---|---|",
  ];
  const rows = [...header];
  let oursAgainstC: BenchReport | undefined;
  for (const [name, flags] of CELLS) {
    const mine = await bench(ours.port, flags, pin);
    const theirs = c === undefined
      ? undefined
      : await bench(c.port, flags, pin);
    if (name === PING_PONG_500) oursAgainstC = theirs;
    const errors = mine.errors + mine.mismatches +
      (theirs === undefined ? 0 : theirs.errors + theirs.mismatches);
    const pingPong = mine.mode === "ping-pong";
    const tail = (report: BenchReport, key: "p99" | "p999") =>
      pingPong ? ms(report.latency_us?.[key]) : "-";
    if (theirs === undefined) {
      rows.push(
        `| ${name} | ${rate(mine)} | ${tail(mine, "p99")} | ${
          tail(mine, "p999")
        } | ${errors} |`,
      );
    } else {
      const ratio = mine.mode === "stream"
        ? mine.mb_per_s / theirs.mb_per_s
        : mine.per_s / theirs.per_s;
      rows.push(
        `| ${name} | ${rate(mine)} / ${rate(theirs)} | ${ratio.toFixed(2)} | ${
          tail(mine, "p99")
        } / ${tail(theirs, "p99")} | ${tail(mine, "p999")} / ${
          tail(theirs, "p999")
        } | ${errors} |`,
      );
    }
    await Deno.stderr.write(new TextEncoder().encode(`${name}: done\n`));
  }
  if (c !== undefined && oursAgainstC !== undefined) {
    rows.push(
      ...(cLoadPath === undefined
        ? [
          "\nC load generator: not found (build ../shared/bench or pass --c-load PATH)",
        ]
        : loadGeneratorRows(
          oursAgainstC,
          await echoload(cLoadPath, c.port, pin),
        )),
    );
  }
  await Deno.stdout.write(new TextEncoder().encode(rows.join("\n") + "\n"));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
