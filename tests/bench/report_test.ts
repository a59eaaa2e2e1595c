import assert from "node:assert/strict";
import {
  formatProgress,
  LatencyHistogram,
  type LoadProgress,
} from "../../lib/bench/mod.ts";

Deno.test("the live progress line shows rate, throughput, p99 and errors, or that it is warming up", () => {
  const latency = new LatencyHistogram();
  latency.record(1_500);
  const progress: LoadProgress = {
    completed: 2_000,
    bytesVerified: 2_048_000,
    errors: 1,
    latency,
  };
  assert.equal(
    formatProgress(progress, 1_000, 1_024_000, 500, 1_500),
    "1.50 s: 2,000/s, 2.0 MB/s, p99 1.50 ms, errors 1",
  );
  assert.equal(
    formatProgress({ ...progress, warmingUp: true }, 0, 0, 500, 300),
    "300 ms: warming up, errors 1",
  );
});
