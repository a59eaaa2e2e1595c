import assert from "node:assert/strict";
import { UsageError } from "../../lib/cli/mod.ts";
import { parseServerArgs, type ServerArgs } from "../../lib/cli/mod.ts";

function serveArgs(args: string[]): ServerArgs {
  const command = parseServerArgs(args);
  assert.equal(command.kind, "serve");
  return command.kind === "serve" ? command.args : assert.fail();
}

Deno.test("server defaults are loopback, port 7007, 5 s drain, no idle timeout, no limit", () => {
  const args = serveArgs([]);
  assert.deepEqual(args.endpoint, {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 7007,
  });
  assert.equal(args.limits?.drainTimeout, 5_000);
  assert.equal(args.limits?.idleTimeout, 0);
  assert.equal(args.limits?.maxConnections, Infinity);
  assert.equal(args.limits?.maxBufferSize, 262_144);
  assert.equal(args.log?.format, "text");
});

Deno.test("server flags are parsed with their units", () => {
  const args = serveArgs([
    "--host=[::1]",
    "--port=0",
    "--idle-timeout=500ms",
    "--max-connections=3",
    "--drain-timeout=2m",
    "--max-buffer=16KiB",
    "--log-format=json",
    "--quiet",
  ]);
  assert.deepEqual(args.endpoint, {
    transport: "tcp",
    hostname: "::1",
    port: 0,
  });
  assert.equal(args.limits?.idleTimeout, 500);
  assert.equal(args.limits?.maxConnections, 3);
  assert.equal(args.limits?.drainTimeout, 120_000);
  assert.equal(args.limits?.maxBufferSize, 16_384);
  assert.equal(args.log?.format, "json");
  assert.equal(args.log?.quiet, true);
});

Deno.test("server refuses bad values for each flag, naming flag and value", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--max-connections", "0"],
      /^--max-connections: Invalid connection limit "0"/,
    ],
    [
      ["--max-connections", "x"],
      /^--max-connections: Invalid connection limit "x"/,
    ],
    [["--idle-timeout", "5"], /^--idle-timeout: Invalid duration "5"/],
    [["--max-buffer", "0"], /^--max-buffer: Invalid buffer size "0"/],
    [["--log-format", "xml"], /^--log-format: Invalid log format "xml"/],
    [
      ["--workers", "0"],
      /^--workers: Invalid worker count "0": expected 1 to 256/,
    ],
    [["--host", ""], /^--host: Empty host/],
    [["extra"], /^Unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseServerArgs(args),
      (error: unknown) =>
        error instanceof UsageError && message.test(error.message),
      args.join(" "),
    );
  }
});

Deno.test("server --help and --version win over other flags", () => {
  assert.deepEqual(parseServerArgs(["--port", "1", "--help"]), {
    kind: "help",
  });
  assert.deepEqual(parseServerArgs(["-V"]), { kind: "version" });
});

Deno.test("a bare 0 is valid for every server duration flag and means none", () => {
  const args = serveArgs([
    "--idle-timeout",
    "0",
    "--drain-timeout",
    "0",
    "--handshake-timeout",
    "0",
  ]);
  assert.equal(args.limits?.idleTimeout, 0);
  assert.equal(args.limits?.drainTimeout, 0);
  assert.equal(args.limits?.handshakeTimeout, 0);
});

Deno.test("PROXY trust flags: loopback trusted by default, --proxy-from replaces it, and they need --proxy-protocol", () => {
  assert.equal(serveArgs([]).proxyProtocol, undefined);
  const defaults = serveArgs(["--proxy-protocol"]).proxyProtocol;
  assert.equal(defaults?.trustedProxies, undefined, "the library's loopback");
  assert.equal(defaults?.optional, false);
  const given = serveArgs([
    "--proxy-protocol",
    "--proxy-from",
    "10.0.0.0/8,192.0.2.1",
    "--proxy-optional",
    "--max-pending-headers",
    "9",
  ]).proxyProtocol;
  assert.deepEqual(given?.trustedProxies?.map((range) => range.text), [
    "10.0.0.0/8",
    "192.0.2.1",
  ]);
  assert.equal(given?.optional, true);
  assert.equal(given?.maxPending, 9);
  assert.throws(
    () => parseServerArgs(["--proxy-from", "10.0.0.0/8"]),
    /^UsageError: --proxy-from: only with --proxy-protocol/,
  );
  assert.equal(serveArgs(["--ipv6-prefix", "48"]).ipv6Prefix, 48);
  assert.throws(
    () => parseServerArgs(["--ipv6-prefix", "129"]),
    /Invalid prefix length "129"/,
  );
});

Deno.test("fault flags make one set of faults; the service flags pick discard or chargen", () => {
  const parsed = parseServerArgs([
    "--delay",
    "200ms",
    "--throttle",
    "64KiB",
    "--chunk",
    "10",
    "--chunk-delay",
    "5ms",
    "--reset-after",
    "1KiB",
    "--blackhole",
    "--fault-rate",
    "0.25",
    "--fault-seed",
    "9",
    "--udp-drop",
    "0.1",
    "--chargen",
    "--admin-port",
    "0",
    "--admin-faults",
  ]);
  assert.equal(parsed.kind, "serve");
  if (parsed.kind !== "serve") return;
  assert.deepEqual(parsed.args.faults, {
    delay: 200,
    throttle: 65536,
    chunk: 10,
    chunkDelay: 5,
    resetAfter: { bytes: 1024 },
    blackhole: true,
    faultRate: 0.25,
    faultSeed: 9,
    udpDrop: 0.1,
  });
  assert.equal(parsed.args.service, "chargen");
  assert.equal(parsed.args.liveFaults, true);
  const plain = parseServerArgs([]);
  assert.ok(plain.kind === "serve" && plain.args.faults === undefined);
  assert.ok(plain.kind === "serve" && plain.args.service === undefined);
});

Deno.test("fault flags refuse bad values and combinations, naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--delay", "5"], /^--delay: Invalid duration "5"/],
    [["--fault-rate", "2"], /^--fault-rate: Invalid share "2"/],
    [["--close-after", "soon"], /^--close-after: Invalid size "soon"/],
    [["--chunk-delay", "5ms"], /^--chunk-delay: only with --chunk/],
    [
      ["--close-after", "1", "--reset-after", "1"],
      /^--close-after and --reset-after: give one of them/,
    ],
    [["--discard", "--chargen"], /^--discard and --chargen: give one of them/],
    [["--admin-faults"], /^--admin-faults: only with --admin-port/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseServerArgs(args),
      (error: unknown) =>
        error instanceof UsageError && message.test(error.message),
      args.join(" "),
    );
  }
});
