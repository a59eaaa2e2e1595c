import assert from "node:assert/strict";
import {
  durationOrZero,
  parseEndpointFlags,
  parseFlags,
  parseFlagValue,
  positiveDuration,
} from "../../lib/cli/mod.ts";
import { UsageError } from "../../lib/cli/mod.ts";
import { parseDuration } from "../../lib/log/mod.ts";

const specs = {
  port: { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

Deno.test("parseFlags reads --flag value, --flag=value, switches and positionals", () => {
  const { values, positionals } = parseFlags([
    "--port",
    "1",
    "--quiet",
    "a",
    "b",
  ], specs);
  assert.equal(values.port, "1");
  assert.equal(values.quiet, true);
  assert.deepEqual(positionals, ["a", "b"]);
  assert.equal(parseFlags(["--port=2"], specs).values.port, "2");
  assert.equal(parseFlags(["-h"], specs).values.help, true);
});

Deno.test("parseFlags keeps a dash-leading value as the value", () => {
  assert.equal(parseFlags(["--port", "-1"], specs).values.port, "-1");
});

Deno.test("parseFlags passes words after -- through as positionals", () => {
  assert.deepEqual(parseFlags(["--", "--port", "x"], specs).positionals, [
    "--port",
    "x",
  ]);
});

Deno.test("parseFlags names an unknown flag and a missing value, pointing to --help", () => {
  assert.throws(
    () => parseFlags(["--bogus"], specs),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === `Unknown flag "--bogus": see --help`,
  );
  assert.throws(
    () => parseFlags(["--port"], specs),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === `Missing value for "--port": see --help`,
  );
});

Deno.test("parseFlagValue turns a parser's error into a UsageError naming the flag", () => {
  assert.equal(parseFlagValue("timeout", "5s", parseDuration), 5_000);
  assert.throws(
    () => parseFlagValue("timeout", "5", parseDuration),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message.startsWith(`--timeout: Invalid duration "5"`) &&
      error.message.endsWith("see --help"),
  );
});

Deno.test("parseEndpointFlags takes HOST:PORT in --host, IPv6 in brackets", () => {
  assert.deepEqual(parseEndpointFlags({ host: "[::1]:7008" }), {
    transport: "tcp",
    hostname: "::1",
    port: 7008,
  });
  assert.deepEqual(parseEndpointFlags({ host: "localhost:9" }), {
    transport: "tcp",
    hostname: "localhost",
    port: 9,
  });
  assert.deepEqual(
    parseEndpointFlags({ host: "::", port: "0" }, { allowZero: true }),
    {
      transport: "tcp",
      hostname: "::",
      port: 0,
    },
  );
});

Deno.test("parseEndpointFlags refuses a malformed IPv6 address and a port given twice", () => {
  assert.throws(
    () => parseEndpointFlags({ host: "::1::2" }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message ===
        '--host: Invalid IPv6 address "::1::2": expected e.g. ::1 or [::1]: see --help',
  );
  assert.throws(
    () => parseEndpointFlags({ host: "[::1]:7008", port: "7009" }),
    (error: unknown) =>
      error instanceof UsageError && /already has a port/.test(error.message),
  );
  assert.throws(
    () => parseEndpointFlags({ host: "[::1]:99999" }),
    (error: unknown) =>
      error instanceof UsageError &&
      /^--host: Invalid port "99999"/.test(error.message),
  );
});

Deno.test("parseEndpointFlags reads --unix and refuses it next to --host or --port", () => {
  assert.deepEqual(parseEndpointFlags({ unix: "/tmp/echo.sock" }), {
    transport: "unix",
    path: "/tmp/echo.sock",
  });
  assert.throws(
    () => parseEndpointFlags({ unix: "/tmp/echo.sock", port: "7007" }),
    (error: unknown) =>
      error instanceof UsageError && /cannot be combined/.test(error.message),
  );
});

Deno.test("a bare 0 is a duration (0 ms); any other number still needs a unit", () => {
  assert.equal(durationOrZero("0"), 0);
  assert.equal(durationOrZero("0s"), 0);
  assert.equal(durationOrZero("1.5s"), 1_500);
  for (const bad of ["5", "00", "0.0", "-0", " 0", "0 ", ""]) {
    assert.throws(
      () => parseFlagValue("handshake-timeout", bad, durationOrZero),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message.startsWith(
          `--handshake-timeout: Invalid duration "${bad}": expected a number with a unit`,
        ),
      JSON.stringify(bad),
    );
  }
});

Deno.test("positiveDuration refuses a bare 0 like 0s, saying it must be more than 0", () => {
  assert.equal(positiveDuration("250ms"), 250);
  for (const zero of ["0", "0s", "0ms"]) {
    assert.throws(
      () => parseFlagValue("timeout", zero, positiveDuration),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          `--timeout: Invalid duration "${zero}": expected more than 0: see --help`,
    );
  }
});
