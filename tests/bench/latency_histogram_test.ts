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

Deno.test("histograms as data: merging two runs' data gives the percentiles of one histogram of all their samples", () => {
  const all = new LatencyHistogram();
  const runs = [new LatencyHistogram(), new LatencyHistogram()];
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const micros = 50 + (seed % 100_000) * (i % 3 === 0 ? 10 : 1);
    all.record(micros);
    runs[i % 2]!.record(micros);
  }
  const merged = new LatencyHistogram();
  for (const run of runs) {
    // Through JSON, as two machines' results would come.
    merged.merge(
      LatencyHistogram.fromData(JSON.parse(JSON.stringify(run.toData()))),
    );
  }
  for (const p of [50, 90, 99, 99.9, 100]) {
    assert.equal(merged.percentile(p), all.percentile(p), `p${p}`);
  }
  assert.equal(merged.count, all.count);
  assert.equal(merged.min, all.min);
  assert.equal(merged.max, all.max);
  assert.ok(Math.abs(merged.mean - all.mean) < 1e-6);
  assert.throws(
    () =>
      LatencyHistogram.fromData({ ...runs[0]!.toData(), buckets: [[-1, 1]] }),
    /Invalid histogram bucket/,
  );
});
