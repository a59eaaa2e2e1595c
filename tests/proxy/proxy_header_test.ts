import assert from "node:assert/strict";
import {
  encodeProxyHeader,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
} from "../../lib/proxy/mod.ts";

const text = (value: string) => new TextEncoder().encode(value);

Deno.test("PROXY v1: TCP4, TCP6 and UNKNOWN headers, with the bytes after them untouched", () => {
  const tcp4 = parseProxyHeader(
    text("PROXY TCP4 192.0.2.1 198.51.100.2 56324 7007\r\nhello"),
  );
  assert.deepEqual(tcp4, {
    kind: "header",
    version: 1,
    length: 46,
    source: { hostname: "192.0.2.1", port: 56324 },
    destination: { hostname: "198.51.100.2", port: 7007 },
  });
  const tcp6 = parseProxyHeader(text("PROXY TCP6 2001:db8::1 ::1 1 2\r\n"));
  assert.equal(tcp6.kind, "header");
  assert.deepEqual(tcp6.kind === "header" && tcp6.source, {
    hostname: "2001:db8::1",
    port: 1,
  });
  assert.deepEqual(parseProxyHeader(text("PROXY UNKNOWN\r\n")), {
    kind: "header",
    version: 1,
    length: 15,
  });
});

Deno.test("PROXY v1: prefixes are incomplete; malformed or overlong lines are invalid", () => {
  assert.equal(parseProxyHeader(text("PRO")).kind, "incomplete");
  assert.equal(parseProxyHeader(text("PROXY TCP4 1.2.3.4")).kind, "incomplete");
  for (
    const bad of [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
      "PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n",
      "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
      "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n",
      "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY " + "x".repeat(120),
      "GET / HTTP/1.1\r\n",
      "hello",
    ]
  ) {
    assert.equal(
      parseProxyHeader(text(bad)).kind,
      "invalid",
      JSON.stringify(bad),
    );
  }
});

Deno.test("PROXY v2: IPv4, IPv6, LOCAL and TLVs; encoding and parsing agree", () => {
  for (
    const [source, destination] of [
      [{ hostname: "192.0.2.1", port: 40000 }, {
        hostname: "10.0.0.2",
        port: 7007,
      }],
      [{ hostname: "2001:db8::7", port: 1 }, { hostname: "::1", port: 65535 }],
    ]
  ) {
    for (const version of ["v1", "v2"] as const) {
      const header = encodeProxyHeader(version, source!, destination!);
      const parsed = parseProxyHeader(Uint8Array.of(...header, 1, 2, 3));
      assert.deepEqual(parsed, {
        kind: "header",
        version: version === "v1" ? 1 : 2,
        length: header.length,
        source,
        destination,
      });
    }
  }
  const local = Uint8Array.of(...PROXY_V2_SIGNATURE, 0x20, 0x00, 0, 0);
  assert.deepEqual(parseProxyHeader(local), {
    kind: "header",
    version: 2,
    length: 16,
  });
  // An IPv4 header with 5 bytes of TLV after the addresses.
  const withTlv = encodeProxyHeader("v2", { hostname: "1.2.3.4", port: 1 }, {
    hostname: "5.6.7.8",
    port: 2,
  });
  withTlv[15] = 12 + 5;
  const tlv = Uint8Array.of(...withTlv, 0x04, 0x00, 0x02, 0xab, 0xcd);
  const parsed = parseProxyHeader(tlv);
  assert.equal(parsed.kind === "header" && parsed.length, 16 + 17);
});

Deno.test("PROXY v2: truncated, oversized, wrong version or command are never accepted", () => {
  const header = encodeProxyHeader("v2", { hostname: "1.2.3.4", port: 1 }, {
    hostname: "5.6.7.8",
    port: 2,
  });
  for (let cut = 1; cut < header.length; cut++) {
    assert.equal(
      parseProxyHeader(header.subarray(0, cut)).kind,
      "incomplete",
      `cut at ${cut}`,
    );
  }
  const huge = header.slice();
  huge[14] = 0xff;
  huge[15] = 0xff;
  assert.match(
    (parseProxyHeader(huge) as { reason: string }).reason,
    /too large/,
  );
  const version3 = header.slice();
  version3[12] = 0x31;
  assert.equal(parseProxyHeader(version3).kind, "invalid");
  const command2 = header.slice();
  command2[12] = 0x22;
  assert.equal(parseProxyHeader(command2).kind, "invalid");
  const short = header.slice(0, 16 + 4);
  short[15] = 4; // IPv4 family with 4 bytes of addresses
  assert.equal(parseProxyHeader(short).kind, "invalid");
});

Deno.test("fuzz: random and mutated headers never throw and never parse into an address without a valid header", () => {
  const seeds = [
    encodeProxyHeader("v1", { hostname: "1.2.3.4", port: 1 }, {
      hostname: "5.6.7.8",
      port: 2,
    }),
    encodeProxyHeader("v2", { hostname: "2001:db8::1", port: 1 }, {
      hostname: "::1",
      port: 2,
    }),
  ];
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  for (let i = 0; i < 20_000; i++) {
    let input: Uint8Array;
    if (i % 3 === 0) input = random(Math.floor(Math.random() * 300));
    else {
      input = (seeds[i % 2] as Uint8Array).slice(
        0,
        1 + Math.floor(Math.random() * 80),
      );
      for (let flips = 0; flips < 1 + (i % 4); flips++) {
        input[Math.floor(Math.random() * input.length)] = random(
          1,
        )[0] as number;
      }
    }
    const result = parseProxyHeader(input);
    if (result.kind === "header") {
      // Whatever parsed must re-encode to the same prefix (v1 text or v2 binary).
      assert.ok(result.length <= input.length);
      if (result.source !== undefined && result.version === 2) {
        assert.ok(
          input.subarray(0, 12).every((byte, k) =>
            byte === PROXY_V2_SIGNATURE[k]
          ),
        );
      }
      if (result.version === 1) {
        assert.equal(new TextDecoder().decode(input.subarray(0, 6)), "PROXY ");
      }
    }
  }
});

Deno.test("PROXY v1: a forged address with brackets and an escape sequence is invalid, not logged", () => {
  const forged = parseProxyHeader(
    text("PROXY TCP6 ::1]/#\x1b[31mFORGED ::1 1 2\r\n"),
  );
  assert.equal(forged.kind, "invalid");
  assert.ok(
    forged.kind === "invalid" && /^[\x20-\x7e]*$/.test(forged.reason),
    "the reason is ours, not the client's bytes",
  );
});

Deno.test("PROXY v1: only the strict grammar passes: dotted quads without leading zeros, RFC 4291 IPv6, single spaces, decimal ports", () => {
  for (
    const bad of [
      "PROXY TCP4 010.000.000.001 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n",
      "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n",
      "PROXY TCP4 +1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 0x10\r\n",
      "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
      "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
      "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP6 [::1] ::1 1 2\r\n",
      "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
      "PROXY TCP6 1::2::3 ::1 1 2\r\n",
      "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
      "PROXY TCP6 12345::1 ::1 1 2\r\n",
      "PROXY TCP6 ::g ::1 1 2\r\n",
      "PROXY TCP6 ::1.2.3.4:1 ::1 1 2\r\n",
      "PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n",
      "PROXY TCP6 :1::2 ::1 1 2\r\n",
      "PROXY UNKNOWN\x1b[31m\r\n",
      "PROXY UNKNOWN \x7f\r\n",
      "PROXY UNKNOWN \xe9\r\n",
    ]
  ) {
    const bytes = Uint8Array.from(bad, (c) => c.charCodeAt(0));
    assert.equal(parseProxyHeader(bytes).kind, "invalid", JSON.stringify(bad));
  }
});

Deno.test("PROXY v1: a non-printable byte or a bare LF makes the header invalid at once, not incomplete", () => {
  for (
    const bad of [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
      "PROXY TCP4 1.2.3.4\x00",
      "PROXY TCP4 1.2\r5",
      "PROXY \x1b",
    ]
  ) {
    assert.equal(
      parseProxyHeader(text(bad)).kind,
      "invalid",
      JSON.stringify(bad),
    );
  }
  assert.equal(parseProxyHeader(text("PROXY UNKNOWN\r")).kind, "incomplete");
});

Deno.test("PROXY v1: the edges of the grammar are accepted, IPv6 printed canonically and IPv4-mapped as IPv4", () => {
  const parsed = (line: string) => {
    const result = parseProxyHeader(text(line));
    assert.equal(result.kind, "header", JSON.stringify(line));
    return result.kind === "header" ? [result.source, result.destination] : [];
  };
  assert.deepEqual(parsed("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"), [
    { hostname: "0.0.0.0", port: 0 },
    { hostname: "255.255.255.255", port: 65535 },
  ]);
  assert.deepEqual(parsed("PROXY TCP6 :: 1:2:3:4:5:6:7:8 10 20\r\n"), [
    { hostname: "::", port: 10 },
    { hostname: "1:2:3:4:5:6:7:8", port: 20 },
  ]);
  assert.deepEqual(
    parsed("PROXY TCP6 ::ffff:192.0.2.1 2001:DB8:0:0:0:0:0:07 1 2\r\n"),
    [
      { hostname: "192.0.2.1", port: 1 },
      { hostname: "2001:db8::7", port: 2 },
    ],
  );
  assert.deepEqual(
    parsed(
      "PROXY TCP6 0000:0000:0000:0000:0000:ffff:255.255.255.255 ::1 1 2\r\n",
    )[0],
    { hostname: "255.255.255.255", port: 1 },
  );
  // The spec's worst case, 107 bytes with the CRLF, is the longest allowed.
  const full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const longest = `PROXY UNKNOWN ${full} ${full} 65535 65535\r\n`;
  assert.equal(longest.length, 107);
  assert.equal(parseProxyHeader(text(longest)).kind, "header");
  assert.equal(
    parseProxyHeader(text(longest.replace("UNKNOWN", "UNKNOWN "))).kind,
    "invalid",
  );
  // What follows UNKNOWN is ignored, as the spec says.
  assert.deepEqual(
    parseProxyHeader(text("PROXY UNKNOWN ffff:: ffff:: 65535 65535\r\nhi")),
    { kind: "header", version: 1, length: 41 },
  );
});

/** A v2 PROXY (or LOCAL) header with `family` and `addresses`. */
function v2Header(
  family: number,
  addresses: number[],
  command = 0x1,
): Uint8Array {
  return Uint8Array.of(
    ...PROXY_V2_SIGNATURE,
    0x20 | command,
    family,
    addresses.length >> 8,
    addresses.length & 0xff,
    ...addresses,
  );
}

Deno.test("PROXY v2: unknown address families and transport protocols are invalid; UNSPEC and Unix stand without an address", () => {
  const ipv4 = [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2];
  for (const family of [0x01, 0x02, 0x10, 0x13, 0x20, 0x23, 0x30, 0x41, 0xff]) {
    for (const command of [0x0, 0x1]) {
      assert.equal(
        parseProxyHeader(v2Header(family, ipv4, command)).kind,
        "invalid",
        `family 0x${family.toString(16)}, command ${command}`,
      );
    }
  }
  // LOCAL with AF_UNSPEC: the proxy's own connection (a health check).
  assert.deepEqual(parseProxyHeader(v2Header(0x00, [], 0x0)), {
    kind: "header",
    version: 2,
    length: 16,
  });
  assert.deepEqual(parseProxyHeader(v2Header(0x00, [])), {
    kind: "header",
    version: 2,
    length: 16,
  });
  const unix = new Array<number>(216).fill(0x61);
  assert.deepEqual(parseProxyHeader(v2Header(0x31, unix)), {
    kind: "header",
    version: 2,
    length: 16 + 216,
  });
  assert.equal(
    parseProxyHeader(v2Header(0x31, unix.slice(0, 100))).kind,
    "invalid",
  );
});

Deno.test("PROXY v2: an IPv4-mapped IPv6 source is reported as the IPv4 address", () => {
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1];
  const destination = [
    0x20,
    0x01,
    0x0d,
    0xb8,
    ...new Array<number>(11).fill(0),
    7,
  ];
  const parsed = parseProxyHeader(
    v2Header(0x21, [...mapped, ...destination, 0x9c, 0x40, 0x1b, 0x5f]),
  );
  assert.deepEqual(parsed, {
    kind: "header",
    version: 2,
    length: 16 + 36,
    source: { hostname: "192.0.2.1", port: 40000 },
    destination: { hostname: "2001:db8::7", port: 7007 },
  });
});
