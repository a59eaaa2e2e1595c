import assert from "node:assert/strict";
import { Logger } from "../../lib/log/mod.ts";

Deno.test("text log lines are timestamped key=value, quoting values with spaces", () => {
  const lines: string[] = [];
  const log = new Logger({ write: (line) => lines.push(line) });
  log.event("close", {
    peer: "127.0.0.1:1",
    reason: "eof",
    error: "a b",
    skipped: undefined,
  });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0] ?? "",
    /^\d{4}-\d\d-\d\dT[\d:.]+Z close peer=127\.0\.0\.1:1 reason=eof error="a b"\n$/,
  );
});

Deno.test("json log lines are one parseable object each", () => {
  const lines: string[] = [];
  const log = new Logger({ format: "json", write: (line) => lines.push(line) });
  log.event("open", { conn: 1, peer: "[::1]:2" });
  const entry = JSON.parse(lines[0] ?? "");
  assert.equal(entry.event, "open");
  assert.equal(entry.conn, 1);
  assert.equal(entry.peer, "[::1]:2");
  assert.equal(typeof entry.time, "string");
});

Deno.test("quiet drops per-connection events but keeps lifecycle events", () => {
  const lines: string[] = [];
  const log = new Logger({ quiet: true, write: (line) => lines.push(line) });
  log.event("open");
  log.event("close");
  log.event("refused");
  log.event("shutdown", { signal: "SIGTERM" });
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? "", / shutdown signal=SIGTERM/);
  assert.equal(log.logsConnections, false);
  assert.equal(new Logger().logsConnections, true);
});
