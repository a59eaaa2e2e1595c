import assert from "node:assert/strict";
import { parseClientArgs } from "../../lib/cli/mod.ts";
import { UsageError } from "../../lib/cli/mod.ts";

Deno.test("client defaults: loopback, port 7007, 10 s timeout, newline, 4 MiB window", () => {
  const command = parseClientArgs(["hello", "world"]);
  assert.equal(command.kind, "echo");
  if (command.kind !== "echo") return;
  assert.deepEqual(command.args, {
    endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
    udp: false,
    banner: false,
    tls: undefined,
    retries: 2,
    timeout: 10_000,
    message: ["hello", "world"],
    newline: true,
    window: 4 * 1024 * 1024,
    quiet: false,
    verbose: false,
  });
});

Deno.test("client -n drops the newline and --timeout takes a unit", () => {
  const command = parseClientArgs([
    "-n",
    "--timeout",
    "250ms",
    "--window",
    "64KiB",
  ]);
  assert.equal(command.kind, "echo");
  if (command.kind !== "echo") return;
  assert.equal(command.args.newline, false);
  assert.equal(command.args.timeout, 250);
  assert.equal(command.args.window, 65_536);
  assert.deepEqual(command.args.message, []);
});

Deno.test("client refuses port 0, a zero timeout and a zero window", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--port", "0"],
      /^--port: Invalid port "0": expected an integer from 1 to 65535/,
    ],
    [
      ["--timeout", "0s"],
      /^--timeout: Invalid duration "0s": expected more than 0/,
    ],
    [["--window", "0"], /^--window: Invalid window "0"/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseClientArgs(args),
      (error: unknown) =>
        error instanceof UsageError && message.test(error.message),
    );
  }
});

Deno.test("client --udp waits 1 s per attempt by default and takes --retries", () => {
  const command = parseClientArgs(["--udp", "--retries", "0", "hi"]);
  assert.equal(command.kind, "echo");
  if (command.kind !== "echo") return;
  assert.equal(command.args.udp, true);
  assert.equal(command.args.timeout, 1_000);
  assert.equal(command.args.retries, 0);
  assert.throws(
    () => parseClientArgs(["--udp", "--unix", "/tmp/s", "hi"]),
    (error: unknown) =>
      error instanceof UsageError && /^--udp: needs a host/.test(error.message),
  );
});
