import assert from "node:assert/strict";
import {
  cidrContains,
  isAllowed,
  parseCidr,
  parseIp,
} from "../../lib/access/mod.ts";

Deno.test("CIDR ranges match IPv4, IPv6 and IPv4-mapped IPv6 addresses", () => {
  const ten = parseCidr("10.0.0.0/8");
  assert.ok(cidrContains(ten, "10.255.0.1"));
  assert.ok(cidrContains(ten, "::ffff:10.1.2.3"), "mapped IPv6 is IPv4");
  assert.ok(!cidrContains(ten, "11.0.0.1"));
  const doc = parseCidr("2001:db8::/32");
  assert.ok(cidrContains(doc, "2001:db8:ffff::1"));
  assert.ok(!cidrContains(doc, "2001:db9::1"));
  assert.ok(!cidrContains(doc, "10.0.0.1"), "families never mix");
  assert.ok(cidrContains(parseCidr("127.0.0.5"), "127.0.0.5"));
  assert.ok(!cidrContains(parseCidr("127.0.0.5"), "127.0.0.6"));
  assert.ok(cidrContains(parseCidr("0.0.0.0/0"), "203.0.113.9"));
  assert.ok(cidrContains(parseCidr("[::1]"), "::1"));
  assert.equal(parseIp("::ffff:127.0.0.1")?.family, 4);
});

Deno.test("CIDR parsing refuses malformed ranges, naming them", () => {
  for (
    const text of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0/8",
      "300.0.0.1",
      "x",
      "1.2.3.4/8/1",
      "1.2.3.4/-1",
      "::1::2",
    ]
  ) {
    assert.throws(() => parseCidr(text), /Invalid address range/, text);
  }
});

Deno.test("access rules: deny wins, and any allow range denies everything else", () => {
  const rules = (allow: string[], deny: string[]) => ({
    allow: allow.map(parseCidr),
    deny: deny.map(parseCidr),
  });
  assert.ok(isAllowed(rules([], []), "198.51.100.1"));
  assert.ok(!isAllowed(rules([], ["198.51.100.0/24"]), "198.51.100.1"));
  assert.ok(isAllowed(rules(["127.0.0.5"], []), "127.0.0.5"));
  assert.ok(!isAllowed(rules(["127.0.0.5"], []), "127.0.0.6"));
  assert.ok(!isAllowed(rules(["127.0.0.0/8"], ["127.0.0.6"]), "127.0.0.6"));
  assert.ok(
    isAllowed(rules(["127.0.0.0/8"], ["127.0.0.6"]), "::ffff:127.0.0.5"),
  );
});
