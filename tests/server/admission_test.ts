import assert from "node:assert/strict";
import { AddressLimit } from "../../lib/access/mod.ts";
import { Admission } from "../../lib/server/mod.ts";

Deno.test("a connection admitted uncounted while the table was full never lets its address past the limit later", () => {
  const admission = new Admission(
    undefined,
    new AddressLimit({ limit: 2, capacity: 1 }),
    undefined,
  );
  const a = admission.admit("10.0.0.1"); // fills the table
  const uncounted = admission.admit("10.0.0.2"); // the table is full
  assert.ok(!("reason" in a) && !("reason" in uncounted));
  assert.equal(uncounted.counted, false);
  admission.release(a); // the entry is free again
  const b1 = admission.admit("10.0.0.2");
  const b2 = admission.admit("10.0.0.2");
  assert.ok(!("reason" in b1) && !("reason" in b2) && b1.counted);
  assert.ok("reason" in admission.admit("10.0.0.2"), "at its limit of 2");
  // Before, releasing the uncounted one took one off the later count.
  admission.release(uncounted);
  assert.ok(
    "reason" in admission.admit("10.0.0.2"),
    "still at its limit: 3 connections would exceed 2",
  );
});
