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

/** What a client might put in a peer name, an SNI or an error message. */
const HOSTILE = [
  "a\x1b[31mred",
  "line\r\nforged=1",
  "del\x7f",
  "c1\x85\x9b31m",
  "ls\u2028ps\u2029",
  "bidi\u202eevil\u202c",
  "isolate\u2066x\u2069",
  "zw\u200bjoin\u200d",
  "tag\u{e0041}",
  "lone\ud800",
  'quote"back\\slash',
];

function textLine(fields: Record<string, string>): string {
  const lines: string[] = [];
  new Logger({ write: (line) => lines.push(line) }).event("close", fields);
  return lines[0] ?? "";
}

function jsonLine(fields: Record<string, string>): string {
  const lines: string[] = [];
  new Logger({ format: "json", write: (line) => lines.push(line) })
    .event("close", fields);
  return lines[0] ?? "";
}

Deno.test("text log lines carry no client byte raw: controls, DEL, C1, bidi and separators come out escaped and read back", () => {
  for (const value of HOSTILE) {
    const line = textLine({ peer: value, reason: "eof" });
    assert.match(line, /^[\x20-\x7e]*\n$/, JSON.stringify(value));
    const quoted = / close peer=("(?:[^"\\]|\\.)*") reason=eof\n$/.exec(line);
    assert.ok(quoted, line);
    assert.equal(JSON.parse(quoted[1] ?? ""), value);
  }
  assert.match(
    textLine({ error: "a\x1bb" }),
    / close error="a\\u001bb"\n$/,
  );
});

Deno.test("text log lines keep ordinary values bare and quote spaces, quotes, backslashes, = and empty", () => {
  assert.match(
    textLine({ peer: "[::1]:7007", sni: "example.com", alpn: "http/1.1" }),
    / close peer=\[::1\]:7007 sni=example\.com alpn=http\/1\.1\n$/,
  );
  assert.match(
    textLine({ a: "x y", b: 'q"', c: "b\\s", d: "k=v", e: "" }),
    / close a="x y" b="q\\"" c="b\\\\s" d="k=v" e=""\n$/,
  );
});

Deno.test("json log lines escape DEL, C1, bidi controls and U+2028 too, and parse back to the same values", () => {
  for (const value of HOSTILE) {
    const line = jsonLine({ peer: value });
    assert.match(line, /^[\x20-\x7e]*\n$/, JSON.stringify(value));
    assert.equal(JSON.parse(line).peer, value);
  }
  // Printable non-ASCII text is left as it is in JSON.
  assert.equal(
    JSON.parse(jsonLine({ sni: "bücher.example" })).sni,
    "bücher.example",
  );
  assert.match(jsonLine({ sni: "bücher.example" }), /"sni":"bücher\.example"/);
});

Deno.test("event names and keys cannot break a line either", () => {
  const lines: string[] = [];
  const log = new Logger({ write: (line) => lines.push(line) });
  log.event("bad\nevent", { "k\x1b": "v" });
  assert.match(lines[0] ?? "", / bad\\u000aevent k\\u001b=v\n$/);
});
