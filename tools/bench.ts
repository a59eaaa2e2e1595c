/**
 * `deno task bench`: starts our server, loads it with `echo-client bench`
 * across a small fixed matrix, and prints a markdown table.
 *
 * The server and the load generator are pinned to different CPUs when
 * `taskset` is available and the machine has two or more, so they do not
 * compete for one core. Each cell runs for a fixed time; the whole run
 * takes about 20 s. For the comparison with C, Node and Bun, see
 * bench/README.md (that one uses the C load generator, echoload).
 *
 * @module
 */

import { SERVER_V8_FLAGS } from "./compile.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CELL_SECONDS = 3;

/** One row of the matrix: a name and the `echo-client bench` flags. */
const CELLS: [string, string[]][] = [
  ["ping-pong 1 × 64 B", ["--connections", "1", "--size", "64"]],
  ["ping-pong 50 × 64 B", ["--connections", "50", "--size", "64"]],
  ["ping-pong 500 × 1 KiB", ["--connections", "500", "--size", "1KiB"]],
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

async function main(): Promise<number> {
  const pin = canPin();
  const deno = Deno.execPath();
  const [program, args] = pinned(0, [
    deno,
    "run",
    "--allow-net",
    `--v8-flags=${SERVER_V8_FLAGS.join(",")}`,
    `${ROOT}server.ts`,
    "--port",
    "0",
    "--quiet",
  ], pin);
  const server = new Deno.Command(program, {
    args,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const { value: firstLine = "" } = await reader.read();
    reader.releaseLock();
    const port = /listening on .*:(\d+)/.exec(firstLine)?.[1];
    if (port === undefined) {
      throw new Error(`server did not start: ${firstLine}`);
    }

    const rows = [
      `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ${
        pin ? "server on CPU 0, load on CPU 1" : "no pinning"
      }, ${CELL_SECONDS} s per cell; load generator: echo-client bench\n`,
      "| cell | rate | throughput | p50 | p99 | p99.9 | max | errors |",
      "|---|---|---|---|---|---|---|---|",
    ];
    for (const [name, flags] of CELLS) {
      const [client, clientArgs] = pinned(1, [
        deno,
        "run",
        "--allow-net",
        `${ROOT}client.ts`,
        "bench",
        "--port",
        port,
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
      const report = JSON.parse(new TextDecoder().decode(output.stdout));
      const latency = report.latency_us;
      const ms = (micros: number | undefined) =>
        micros === undefined ? "-" : `${(micros / 1000).toFixed(2)} ms`;
      const rate = report.mode === "stream"
        ? "-"
        : `${Math.round(report.per_s).toLocaleString("en-US")}/s`;
      rows.push(
        `| ${name} | ${rate} | ${report.mb_per_s.toFixed(1)} MB/s | ${
          ms(latency?.p50)
        } | ${ms(latency?.p99)} | ${ms(latency?.p999)} | ${
          ms(latency?.max)
        } | ${report.errors + report.mismatches} |`,
      );
      await Deno.stderr.write(new TextEncoder().encode(`${name}: done\n`));
    }
    await Deno.stdout.write(new TextEncoder().encode(rows.join("\n") + "\n"));
    return 0;
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
