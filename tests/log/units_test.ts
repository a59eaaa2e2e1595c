import assert from "node:assert/strict";
import {
  formatBytes,
  formatDuration,
  parseDuration,
  parseSize,
} from "../../lib/log/mod.ts";

Deno.test("parseDuration reads ms, s, m and h, including fractions", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("0.05s"), 50);
  assert.equal(parseDuration("5s"), 5_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration(".5s"), 500);
});

Deno.test("parseDuration refuses numbers without a unit and junk, naming the value", () => {
  for (const bad of ["5", "", "-1s", "abc", "5 sec", "1e3ms", "s"]) {
    assert.throws(() => parseDuration(bad), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, new RegExp(`^Invalid duration "${bad}": `));
      return true;
    });
  }
});

Deno.test("parseSize reads bytes and binary and decimal units", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("64KiB"), 65_536);
  assert.equal(parseSize("1MiB"), 1_048_576);
  assert.equal(parseSize("1GiB"), 1_073_741_824);
  assert.equal(parseSize("10MB"), 10_000_000);
  assert.equal(parseSize("1.5KiB"), 1_536);
});

Deno.test("parseSize refuses fractional bytes, negatives and unknown units", () => {
  for (const bad of ["0.5", "-1", "1.1KiB", "64kb", "1TB", ""]) {
    assert.throws(() => parseSize(bad), /^TypeError: Invalid size/);
  }
});

Deno.test("formatBytes and formatDuration print three significant digits with units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.50 KiB");
  assert.equal(formatBytes(64 * 1024 ** 2), "64.0 MiB");
  assert.equal(formatDuration(0.5), "500 µs");
  assert.equal(formatDuration(12.34), "12.3 ms");
  assert.equal(formatDuration(4560), "4.56 s");
});
