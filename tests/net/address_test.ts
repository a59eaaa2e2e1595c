import assert from "node:assert/strict";
import {
  formatAddress,
  formatIpBytes,
  ipv4Bytes,
  ipv6Bytes,
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

Deno.test("ipv4Bytes reads strict dotted quads: 0 to 255, no leading zeros, nothing around them", () => {
  assert.deepEqual(ipv4Bytes("0.0.0.0"), Uint8Array.of(0, 0, 0, 0));
  assert.deepEqual(ipv4Bytes("192.0.2.255"), Uint8Array.of(192, 0, 2, 255));
  for (
    const bad of [
      "010.000.000.001",
      "1.2.3.04",
      "1.2.3.256",
      "1.2.3",
      "1.2.3.4.5",
      "1..3.4",
      " 1.2.3.4",
      "1.2.3.4\n",
      "+1.2.3.4",
      "0x1.2.3.4",
      "1.2.3.4/8",
      "",
    ]
  ) {
    assert.equal(ipv4Bytes(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("ipv6Bytes follows RFC 4291 text form and refuses brackets, zone ids and stray characters", () => {
  const hex = (bytes: Uint8Array | undefined) =>
    bytes === undefined
      ? undefined
      : Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hex(ipv6Bytes("::")), "0".repeat(32));
  assert.equal(hex(ipv6Bytes("::1")), "0".repeat(30) + "01");
  assert.equal(
    hex(ipv6Bytes("2001:DB8::ff:1")),
    "20010db8000000000000000000ff0001",
  );
  assert.equal(
    hex(ipv6Bytes("1:2:3:4:5:6:7:8")),
    "00010002000300040005000600070008",
  );
  assert.equal(
    hex(ipv6Bytes("1:2:3:4:5:6:7::")),
    "00010002000300040005000600070000",
  );
  assert.equal(
    hex(ipv6Bytes("::ffff:127.0.0.1")),
    "00000000000000000000ffff7f000001",
  );
  assert.equal(
    hex(ipv6Bytes("1:2:3:4:5:6:1.2.3.4")),
    "00010002000300040005000601020304",
  );
  for (
    const bad of [
      "::1]/#\x1b[31mFORGED",
      "[::1]",
      "fe80::1%eth0",
      ":: 1",
      "::1\t",
      "1::2::3",
      ":::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
      "12345::",
      ":1::",
      "1::2:",
      "::g",
      "::1.2.3.4:5",
      "1.2.3.4::",
      "::ffff:1.2.3.04",
      "1:2:3:4:5:6:7:1.2.3.4",
      "",
    ]
  ) {
    assert.equal(ipv6Bytes(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("parseHost refuses an IPv6 literal with anything after the brackets' content", () => {
  assert.throws(() => parseHost("::1]/#x"), TypeError);
  assert.throws(() => parseHost("[::1%lo]"), TypeError);
});

Deno.test("formatIpBytes prints IPv6 as RFC 5952 says and IPv4-mapped as IPv4", () => {
  const cases: [string, string][] = [
    ["10.0.0.1", "10.0.0.1"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:DB8:0:0:0:0:0:07", "2001:db8::7"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:0:7f00:1", "::ffff:0:7f00:1"],
  ];
  for (const [input, expected] of cases) {
    const bytes = input.includes(":") ? ipv6Bytes(input) : ipv4Bytes(input);
    assert.equal(formatIpBytes(bytes!), expected, input);
  }
  assert.throws(() => formatIpBytes(new Uint8Array(5)), RangeError);
});
