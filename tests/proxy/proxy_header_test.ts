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
