import assert from "node:assert/strict";
import { parseBenchArgs } from "../../lib/cli/mod.ts";
import { UsageError } from "../../lib/net/mod.ts";

Deno.test("bench defaults: one ping-pong connection, 64 B, no count, duration or rate", () => {
  assert.deepEqual(parseBenchArgs([]), {
    kind: "bench",
    args: {
      endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
      mode: "ping-pong",
      connections: 1,
      size: 64,
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
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseBenchArgs(args),
      (error: unknown) =>
        error instanceof UsageError && message.test(error.message),
    );
  }
});
