import assert from "node:assert/strict";
import { EventThrottle } from "../../lib/log/mod.ts";
import { memoryLogger } from "../_helpers.ts";

Deno.test("a throttled event is logged once, then once per interval with the count held back", async () => {
  const { logger, log } = memoryLogger();
  using throttle = new EventThrottle(logger, 50);
  for (let i = 0; i < 1_000; i++) {
    throttle.event("accept-error", { kind: "connection", attempt: i });
  }
  assert.equal(log.lines.length, 1);
  assert.equal(JSON.parse(log.lines[0] ?? "").attempt, 0);
  const repeated = JSON.parse(await log.waitFor(/"repeated":/));
  assert.equal(repeated.repeated, 999);
  assert.equal(repeated.attempt, 999, "the last held-back event's fields");
});

Deno.test("throttled events of different names do not hold each other back", () => {
  const { logger, log } = memoryLogger();
  using throttle = new EventThrottle(logger, 60_000);
  throttle.event("accept-error");
  throttle.event("refused");
  throttle.event("refused");
  assert.equal(log.lines.length, 2);
});

Deno.test("disposing a throttle logs what it still holds back", () => {
  const { logger, log } = memoryLogger();
  {
    using throttle = new EventThrottle(logger, 60_000);
    throttle.event("refused", { reason: "max-connections" });
    throttle.event("refused", { reason: "max-connections" });
    throttle.event("refused", { reason: "max-connections" });
  }
  assert.equal(log.lines.length, 2);
  assert.equal(JSON.parse(log.lines[1] ?? "").repeated, 2);
});
