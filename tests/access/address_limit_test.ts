import assert from "node:assert/strict";
import { AddressLimit } from "../../lib/access/mod.ts";
import type { ContentionTask } from "./_contention.ts";
import { contend } from "./_contention.ts";

/** Whether `limit` lets `address` hold exactly `count` more connections. */
function admitsExactly(
  limit: AddressLimit,
  address: string,
  count: number,
): boolean {
  for (let i = 0; i < count; i++) {
    if (!limit.tryAcquire(address)) return false;
  }
  const over = limit.tryAcquire(address);
  for (let i = 0; i < count; i++) limit.release(address);
  if (over) limit.release(address);
  return !over;
}

/**
 * The per-address limit's slots before the exact table: two count-min
 * tables of 65,536 counters, indexed by FNV-1a-style hashes with public
 * constants of `family:value`.
 */
function oldSketchSlots(address: string): [number, number] {
  const ip = address.split(".").reduce((sum, octet) => sum * 256 + +octet, 0);
  const key = `4:${ip}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return [(h1 >>> 0) % 65_536, (h2 >>> 0) % 65_536];
}

Deno.test("an address is never refused because of connections from addresses chosen to collide with it", () => {
  // Found by a meet-in-the-middle search over the old hashes' low 16 bits:
  // each shares both of 127.0.0.1's counters, so holding the limit from
  // one of them used to refuse 127.0.0.1 and the other.
  const attackers = ["84.96.162.93", "95.70.53.44"];
  for (const attacker of attackers) {
    assert.deepEqual(oldSketchSlots(attacker), oldSketchSlots("127.0.0.1"));
  }
  const limit = new AddressLimit({ limit: 2 });
  assert.ok(limit.tryAcquire("84.96.162.93"));
  assert.ok(limit.tryAcquire("84.96.162.93"));
  assert.ok(!limit.tryAcquire("84.96.162.93"), "the attacker is limited");
  assert.ok(admitsExactly(limit, "127.0.0.1", 2), "127.0.0.1 has its own 2");
  assert.ok(admitsExactly(limit, "95.70.53.44", 2));
});

Deno.test("two limits over one shared buffer count the same connections exactly", () => {
  const limit = new AddressLimit({ limit: 3 });
  const other = AddressLimit.fromShared(limit.toShared()); // another thread
  assert.ok(limit.tryAcquire("10.0.0.1"));
  assert.ok(other.tryAcquire("10.0.0.1"));
  assert.ok(limit.tryAcquire("10.0.0.1"));
  assert.ok(!other.tryAcquire("10.0.0.1"));
  assert.ok(!limit.tryAcquire("10.0.0.1"));
  other.release("10.0.0.1"); // a connection another thread admitted
  assert.ok(other.tryAcquire("10.0.0.1"));
  assert.ok(!limit.tryAcquire("10.0.0.1"));
  assert.ok(admitsExactly(other, "10.0.0.2", 3), "others are not affected");
  assert.deepEqual(other.toShared(), limit.toShared());
});

Deno.test("a limit shared with a real Worker stays exact while both threads acquire and release at once", async () => {
  const limit = new AddressLimit({ limit: 1_000, capacity: 64 });
  const task: ContentionTask = {
    shared: limit.toShared(),
    hot: "192.0.2.1",
    // 50 addresses in a table of 128 slots: runs form, and releases shift
    // entries back while the other thread probes.
    churn: Array.from({ length: 50 }, (_, i) => `198.51.100.${i}`),
    rounds: 2_000,
  };
  const worker = new Worker(
    new URL("./_address_limit_worker.ts", import.meta.url),
    { type: "module" },
  );
  try {
    const messages: unknown[] = [];
    let delivered = Promise.withResolvers<void>();
    worker.onmessage = (event) => {
      messages.push(event.data);
      delivered.resolve();
    };
    await delivered.promise;
    assert.equal(messages.shift(), "ready");
    delivered = Promise.withResolvers<void>();
    worker.postMessage(task);
    const here = contend(limit, task);
    await delivered.promise;
    const there = messages.shift();
    assert.equal(typeof there, "number");
    assert.equal(here + (there as number), 1_000, "the hot address's count");
    assert.equal(limit.uncounted, 0);
    for (let i = 0; i < 1_000; i++) limit.release(task.hot);
    for (const address of [task.hot, ...task.churn]) {
      assert.ok(admitsExactly(limit, address, 1_000), address);
    }
  } finally {
    worker.terminate();
  }
});

Deno.test("IPv6 clients are counted per /64 by default, or per the prefix length given", () => {
  const per64 = new AddressLimit({ limit: 2 });
  assert.ok(per64.tryAcquire("2001:db8:1:2::1"));
  assert.ok(per64.tryAcquire("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  assert.ok(!per64.tryAcquire("2001:db8:1:2:abcd::9"), "the same /64");
  assert.ok(admitsExactly(per64, "2001:db8:1:3::1", 2), "the next /64");
  per64.release("2001:db8:1:2::1234"); // any address of the /64 releases
  assert.ok(per64.tryAcquire("2001:db8:1:2::5"));

  const per48 = new AddressLimit({ limit: 1, ipv6PrefixLength: 48 });
  assert.ok(per48.tryAcquire("2001:db8:1:2::1"));
  assert.ok(!per48.tryAcquire("2001:db8:1:ffff::1"));
  assert.ok(per48.tryAcquire("2001:db8:2::1"));

  const per128 = new AddressLimit({ limit: 1, ipv6PrefixLength: 128 });
  assert.ok(per128.tryAcquire("2001:db8::1"));
  assert.ok(per128.tryAcquire("2001:db8::2"));
  assert.ok(!per128.tryAcquire("2001:db8:0:0::1"), "the same address");
});

Deno.test("an IPv4-mapped IPv6 address counts as the IPv4 address, whatever the IPv6 prefix length", () => {
  const limit = new AddressLimit({ limit: 2, ipv6PrefixLength: 1 });
  assert.ok(limit.tryAcquire("10.0.0.1"));
  assert.ok(limit.tryAcquire("::ffff:10.0.0.1"));
  assert.ok(!limit.tryAcquire("::FFFF:a00:1"), "the same address, in hex");
  assert.ok(!limit.tryAcquire("10.0.0.1"));
  assert.ok(limit.tryAcquire("::ffff:10.0.0.2"), "not cut to a prefix");
  limit.release("::ffff:10.0.0.1");
  assert.ok(limit.tryAcquire("10.0.0.1"));
  // IPv4 0.0.0.1 and IPv6 ::1 are different clients.
  assert.ok(admitsExactly(limit, "0.0.0.1", 2));
  assert.ok(limit.tryAcquire("::1"));
  assert.ok(admitsExactly(limit, "0.0.0.1", 2));
});

Deno.test("addresses that are not IP addresses, such as a Unix socket's, are not limited", () => {
  const limit = new AddressLimit({ limit: 1 });
  for (let i = 0; i < 5; i++) {
    assert.ok(limit.tryAcquire("/run/echo.sock"));
    assert.ok(limit.tryAcquire(""));
    assert.ok(limit.tryAcquire("localhost"));
  }
  limit.release("/run/echo.sock");
  assert.equal(limit.uncounted, 0, "not limited is not uncounted");
  assert.ok(admitsExactly(limit, "10.0.0.1", 1));
});

Deno.test("a full table admits new addresses uncounted, says how many, and counts again once an entry is freed", () => {
  const limit = new AddressLimit({ limit: 1, capacity: 2 });
  assert.ok(limit.tryAcquire("10.0.0.1"));
  assert.ok(limit.tryAcquire("10.0.0.2"));
  assert.ok(
    !limit.tryAcquire("10.0.0.1"),
    "addresses in the table are limited",
  );
  assert.equal(
    limit.tryAcquire("10.0.0.3"),
    "uncounted",
    "an innocent address is admitted, and nothing is to be released",
  );
  assert.equal(limit.tryAcquire("10.0.0.3"), "uncounted");
  assert.equal(limit.uncounted, 2);
  assert.ok(!limit.tryAcquire("10.0.0.2"), "other counts are untouched");
  limit.release("10.0.0.1");
  assert.ok(limit.tryAcquire("10.0.0.3"), "counted in the freed entry");
  assert.ok(!limit.tryAcquire("10.0.0.3"));
  assert.equal(limit.uncounted, 2);
});

Deno.test("releases free entries for reuse and keep every count exact, in any order", () => {
  // A model check: random acquisitions and releases of 24 addresses in a
  // table with room for exactly 24, against a Map of the true counts.
  // Freeing an entry shifts its run back; every address must still be
  // found, with its own count.
  const limit = new AddressLimit({ limit: 3, capacity: 24 });
  const addresses = Array.from({ length: 24 }, (_, i) => `203.0.113.${i}`);
  const counts = new Map(addresses.map((address) => [address, 0]));
  let seed = 1;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let step = 0; step < 50_000; step++) {
    const address = addresses[random(addresses.length)] as string;
    const count = counts.get(address) as number;
    if (random(2) === 0) {
      assert.equal(
        limit.tryAcquire(address) !== false,
        count < 3,
        `${step} ${address}`,
      );
      counts.set(address, Math.min(count + 1, 3));
    } else if (count > 0) {
      limit.release(address);
      counts.set(address, count - 1);
    }
  }
  assert.equal(limit.uncounted, 0, "the table never filled");
  for (const [address, count] of counts) {
    assert.ok(admitsExactly(limit, address, 3 - count), address);
  }
});

Deno.test("each limit draws its own secret hash key, and its instances share it", () => {
  // The same addresses land in different slots under different keys; the
  // header holds the key, so compare where the table's nonzero words are.
  const nonzeroWords = (limit: AddressLimit) =>
    new Int32Array(limit.toShared().buffer).reduce<number[]>(
      (at, word, i) => word === 0 ? at : [...at, i],
      [],
    ).join();
  const one = new AddressLimit({ limit: 5, capacity: 256 });
  const two = new AddressLimit({ limit: 5, capacity: 256 });
  for (let i = 0; i < 64; i++) {
    assert.ok(one.tryAcquire(`10.0.0.${i}`));
    assert.ok(two.tryAcquire(`10.0.0.${i}`));
  }
  assert.notEqual(nonzeroWords(one), nonzeroWords(two));
  // Another instance of `one` finds the same entries: it uses one's key.
  const oneElsewhere = AddressLimit.fromShared(one.toShared());
  for (let i = 0; i < 64; i++) {
    assert.ok(admitsExactly(oneElsewhere, `10.0.0.${i}`, 4));
  }
});

Deno.test("a limit whose lock was abandoned by a terminated thread admits uncounted rather than hang", () => {
  const limit = new AddressLimit({ limit: 1 });
  assert.ok(limit.tryAcquire("10.0.0.1"));
  // Word 0 of the buffer is the lock (see the module's layout): take it
  // for a thread that will never release it.
  const cells = new Int32Array(limit.toShared().buffer);
  Atomics.store(cells, 0, 1);
  assert.ok(limit.tryAcquire("10.0.0.1"), "waits, then gives up");
  assert.ok(limit.tryAcquire("10.0.0.1"), "no longer waits");
  limit.release("10.0.0.1");
  assert.equal(limit.uncounted, 3);
  Atomics.store(cells, 0, 0);
  assert.ok(!limit.tryAcquire("10.0.0.1"), "counts again once it is free");
});

Deno.test("address limit options out of range are refused, naming the value", () => {
  assert.throws(
    () => new AddressLimit({ limit: 0 }),
    new RangeError(
      'Invalid per-address connection limit "0": expected an integer from 1 to 2147483647',
    ),
  );
  assert.throws(() => new AddressLimit({ limit: 1.5 }), RangeError);
  for (const ipv6PrefixLength of [0, 129, 64.5, NaN]) {
    assert.throws(
      () => new AddressLimit({ limit: 1, ipv6PrefixLength }),
      new RangeError(
        `Invalid IPv6 prefix length "${ipv6PrefixLength}": expected an integer from 1 to 128`,
      ),
    );
  }
  for (const capacity of [0, -1, Infinity]) {
    assert.throws(
      () => new AddressLimit({ limit: 1, capacity }),
      /Invalid address table capacity/,
    );
  }
  assert.equal(new AddressLimit({ limit: 1, capacity: 1e9 }).capacity, 2 ** 20);
  assert.equal(new AddressLimit({ limit: 1 }).capacity, 65_536);
  assert.equal(new AddressLimit({ limit: 1 }).ipv6PrefixLength, 64);
});

Deno.test("a shared limit is refused if its buffer does not fit its capacity", () => {
  const shared = new AddressLimit({ limit: 1, capacity: 8 }).toShared();
  assert.throws(
    () => AddressLimit.fromShared({ ...shared, capacity: 16 }),
    /Invalid shared address table: expected a SharedArrayBuffer of \d+ bytes for a capacity of "16"/,
  );
  assert.throws(
    () =>
      AddressLimit.fromShared({
        ...shared,
        buffer: new ArrayBuffer(
          shared.buffer.byteLength,
        ) as unknown as SharedArrayBuffer,
      }),
    TypeError,
  );
  assert.throws(
    () => AddressLimit.fromShared({ ...shared, limit: 0 }),
    RangeError,
  );
});
