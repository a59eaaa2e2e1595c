import assert from "node:assert/strict";
import {
  formatAddress,
  isLoopback,
  normalizeHost,
  parseHost,
  parsePort,
  splitHostPort,
} from "../../lib/net/mod.ts";

Deno.test("parsePort accepts 0 only when allowed, and up to 65535", () => {
  assert.equal(parsePort("0", { allowZero: true }), 0);
  assert.equal(parsePort("65535"), 65_535);
  assert.equal(parsePort("7007"), 7007);
  assert.throws(
    () => parsePort("0"),
    /Invalid port "0": expected an integer from 1 to 65535/,
  );
});

Deno.test("parsePort refuses -1, 65536, abc, 80.5 and empty, naming the value", () => {
  for (const bad of ["-1", "65536", "abc", "80.5", "", " 80", "0x50", "1e3"]) {
    assert.throws(
      () => parsePort(bad, { allowZero: true }),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message ===
          `Invalid port "${bad}": expected an integer from 0 to 65535`,
    );
  }
});

Deno.test("formatAddress brackets IPv6 and unmaps IPv4-mapped peers", () => {
  assert.equal(
    formatAddress({ transport: "tcp", hostname: "127.0.0.1", port: 1 }),
    "127.0.0.1:1",
  );
  assert.equal(
    formatAddress({ transport: "tcp", hostname: "::1", port: 7007 }),
    "[::1]:7007",
  );
  assert.equal(
    formatAddress({ transport: "tcp", hostname: "::ffff:10.1.2.3", port: 9 }),
    "10.1.2.3:9",
  );
  assert.equal(
    formatAddress({ transport: "unix", path: "/tmp/echo.sock" }),
    "/tmp/echo.sock",
  );
});

Deno.test("normalizeHost strips IPv6 brackets and leaves names alone", () => {
  assert.equal(normalizeHost("[::1]"), "::1");
  assert.equal(normalizeHost("localhost"), "localhost");
});

Deno.test("splitHostPort splits HOST:PORT and leaves bare IPv6 whole", () => {
  assert.deepEqual(splitHostPort("[::1]:7007"), { host: "::1", port: "7007" });
  assert.deepEqual(splitHostPort("[::1]"), { host: "::1", port: undefined });
  assert.deepEqual(splitHostPort("::1"), { host: "::1", port: undefined });
  assert.deepEqual(splitHostPort("10.0.0.1:80"), {
    host: "10.0.0.1",
    port: "80",
  });
  assert.deepEqual(splitHostPort("example.com"), {
    host: "example.com",
    port: undefined,
  });
});

Deno.test("parseHost accepts names, IPv4 and IPv6, and refuses malformed IPv6", () => {
  assert.equal(parseHost("localhost"), "localhost");
  assert.equal(parseHost("::"), "::");
  assert.equal(parseHost("[::ffff:127.0.0.1]"), "::ffff:127.0.0.1");
  assert.throws(() => parseHost(":::"), TypeError);
  assert.throws(() => parseHost("1:2:3:4:5:6:7:8:9"), TypeError);
  assert.throws(() => parseHost(""), TypeError);
});

Deno.test("isLoopback knows 127.0.0.0/8, ::1 and localhost, and nothing wider", () => {
  for (
    const host of [
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "::ffff:127.0.0.1",
      "localhost",
    ]
  ) {
    assert.equal(isLoopback(host), true, host);
  }
  for (
    const host of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.com"]
  ) {
    assert.equal(isLoopback(host), false, host);
  }
});
