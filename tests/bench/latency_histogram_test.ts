import assert from "node:assert/strict";
import { LatencyHistogram } from "../../lib/bench/mod.ts";

Deno.test("percentiles of a uniform 1..100000 µs sample are within 1.6 %", () => {
  const histogram = new LatencyHistogram();
  for (let micros = 1; micros <= 100_000; micros++) histogram.record(micros);
  for (const p of [50, 90, 99, 99.9]) {
    const exact = p * 1_000;
    const estimate = histogram.percentile(p);
    assert.ok(
      Math.abs(estimate - exact) / exact < 0.016,
      `p${p}: ${estimate} vs ${exact}`,
    );
  }
  assert.equal(histogram.min, 1);
  assert.equal(histogram.max, 100_000);
  assert.equal(histogram.count, 100_000);
  assert.equal(histogram.mean, 50_000.5);
});

Deno.test("a rare stall shows at p99.9 and max, not at p50", () => {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < 9_990; i++) histogram.record(100);
  for (let i = 0; i < 10; i++) histogram.record(500_000);
  assert.ok(Math.abs(histogram.percentile(50) - 100) < 2);
  assert.ok(histogram.percentile(99.99) > 490_000);
  assert.equal(histogram.max, 500_000);
});

Deno.test("merged histograms count every sample of both", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  a.record(10);
  b.record(1_000);
  a.merge(b);
  assert.equal(a.count, 2);
  assert.equal(a.max, 1_000);
  assert.equal(a.min, 10);
});
