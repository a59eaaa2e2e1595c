import assert from "node:assert/strict";
import {
  BufferBudget,
  ServerMetrics,
  startEchoWorkers,
} from "../../lib/server/mod.ts";

Deno.test("a serving thread that dies after starting is reported, so the server can stop instead of answering health checks with nothing behind them", async () => {
  const budget = new BufferBudget(1 << 20);
  const workers = await startEchoWorkers(
    {
      options: {
        endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
      },
      shared: {
        budget: budget.toShared(),
        metrics: new ServerMetrics().toShared(),
      },
      reusePort: false,
    },
    1,
    new URL("./_failing_worker.ts", import.meta.url),
  );
  try {
    const error = await workers.failed;
    assert.match(error.message, /Serving thread failed/);
  } finally {
    workers.terminate();
  }
});
