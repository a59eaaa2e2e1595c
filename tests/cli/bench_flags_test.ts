import assert from "node:assert/strict";
import { parseBenchArgs } from "../../lib/cli/mod.ts";
import { UsageError } from "../../lib/cli/mod.ts";

Deno.test("bench defaults: one ping-pong connection, 64 B, 0.5 s warm-up, no count, duration or rate", () => {
  assert.deepEqual(parseBenchArgs([]), {
    kind: "bench",
    args: {
      endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
      mode: "ping-pong",
      banner: false,
      connections: 1,
      size: 64,
      warmup: 500,
      timeout: 10_000,
      udp: false,
      threads: 1,
      tls: undefined,
      json: false,
      quiet: false,
    },
  });
});

Deno.test("bench flags take units and names", () => {
  const command = parseBenchArgs([
    "--mode=stream",
    "--connections=8",
    "--size=64KiB",
    "--duration=1.5s",
    "--count=10",
    "--json",
  ]);
  assert.equal(command.kind, "bench");
  if (command.kind !== "bench") return;
  assert.equal(command.args.mode, "stream");
  assert.equal(command.args.connections, 8);
  assert.equal(command.args.size, 65_536);
  assert.equal(command.args.duration, 1_500);
  assert.equal(command.args.count, 10);
  assert.equal(command.args.warmup, 0, "no warm-up by default with --count");
});

Deno.test("bench --warmup takes a duration, 0 included", () => {
  const warmup = (args: string[]) => {
    const command = parseBenchArgs(args);
    return command.kind === "bench" ? command.args.warmup : undefined;
  };
  assert.equal(warmup(["--warmup", "2s"]), 2_000);
  assert.equal(warmup(["--warmup", "0s"]), 0);
  assert.equal(warmup(["--count", "5", "--warmup", "100ms"]), 100);
});

Deno.test("bench refuses --rate outside ping-pong and zero counts", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--mode", "stream", "--rate", "100"],
      /^--rate: only applies to --mode ping-pong/,
    ],
    [["--connections", "0"], /^--connections: Invalid count "0"/],
    [["--rate", "0"], /^--rate: Invalid rate "0"/],
    [["--size", "0"], /^--size: Invalid size "0"/],
    [["--warmup", "5"], /^--warmup: /],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseBenchArgs(args),
      (error: unknown) =>
        error instanceof UsageError && message.test(error.message),
    );
  }
});
