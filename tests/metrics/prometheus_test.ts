import assert from "node:assert/strict";
import { PrometheusText, SharedCounters } from "../../lib/metrics/mod.ts";

Deno.test("Prometheus text: HELP and TYPE lines, escaped labels, cumulative histogram buckets", () => {
  const text = new PrometheusText();
  text.counter("echo_x_total", "Things.", [[{ reason: 'a "b"\\c' }, 3]]);
  text.gauge("echo_y", "A level.", 1.5);
  text.histogram("echo_z_seconds", "Times.", [[0.1, 1], [1, 3]], 2.25, 4);
  assert.equal(
    text.toString(),
    [
      "# HELP echo_x_total Things.",
      "# TYPE echo_x_total counter",
      'echo_x_total{reason="a \\"b\\"\\\\c"} 3',
      "# HELP echo_y A level.",
      "# TYPE echo_y gauge",
      "echo_y 1.5",
      "# HELP echo_z_seconds Times.",
      "# TYPE echo_z_seconds histogram",
      'echo_z_seconds_bucket{le="0.1"} 1',
      'echo_z_seconds_bucket{le="1"} 3',
      'echo_z_seconds_bucket{le="+Inf"} 4',
      "echo_z_seconds_sum 2.25",
      "echo_z_seconds_count 4",
      "",
    ].join("\n"),
  );
});

Deno.test("shared counters add up across instances over the same memory", () => {
  const counters = new SharedCounters(3);
  const other = new SharedCounters(3, counters.shared);
  counters.add(1, 5);
  other.add(1);
  other.add(2, -2);
  assert.equal(counters.get(1), 6);
  assert.equal(counters.get(2), -2);
});
