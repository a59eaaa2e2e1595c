/**
 * The banner line: templates, rendering that always stays one line, the
 * client's reading of it, and the count per backend.
 */

import assert from "node:assert/strict";
import {
  backendOf,
  BackendTally,
  BANNER_FIELDS,
  formatBackends,
  formatBannerTemplate,
  MAX_BACKENDS,
  MAX_BANNER_BYTES,
  MAX_VALUE_LENGTH,
  OTHER_BACKENDS,
  parseBannerTemplate,
  readBanner,
  renderBanner,
  splitBannerDatagram,
} from "../../lib/banner/mod.ts";
import { EchoMismatchError, TimeoutError } from "../../lib/net/mod.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function render(template: string, facts = {}): string {
  return decoder.decode(renderBanner(parseBannerTemplate(template), facts));
}

Deno.test("a template names fields in braces; absent fields show as -, braces double to escape", () => {
  assert.equal(
    render("{pod}@{node} {{sni}}={sni}", { pod: "echo-0", node: "n1" }),
    "echo-0@n1 {sni}=-\n",
  );
  for (const text of ["{pod}", "a {{b}} {peer} c", "json", "x{{"]) {
    assert.equal(
      formatBannerTemplate(parseBannerTemplate(text)),
      text,
      `${text} formats back`,
    );
  }
});

Deno.test("templates that cannot be a banner are refused with the reason", () => {
  const cases: [string, RegExp][] = [
    [
      "{podname}",
      /Unknown banner field "\{podname\}": expected one of \{hostname\}/,
    ],
    ["{pod", /"\{" at 1 is not closed/],
    ["pod}", /"\}" at 4 closes nothing/],
    ["a\tb", /only printable ASCII/],
    ["", /Empty banner/],
    ["x".repeat(257), /too long: at most 256/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseBannerTemplate(text), message, text);
  }
});

Deno.test("no value can end the line early or reach the terminal: text shows ?, JSON escapes and reads back", () => {
  const hostile = "evil\r\nPROXY \x1b[31m\u202e é";
  assert.equal(render("[{sni}]", { sni: hostile }), "[evil??PROXY ?[31m? ?]\n");
  const json = render("json", { sni: hostile, pod: "p" });
  assert.ok(json.endsWith("}\n") && json.indexOf("\n") === json.length - 1);
  assert.ok(/^[\x20-\x7e]*\n$/.test(json), json);
  const fields = JSON.parse(json);
  assert.equal(fields.sni, hostile);
  assert.equal(fields.pod, "p");
  assert.equal(fields.node, null);
  assert.deepEqual(Object.keys(fields), [...BANNER_FIELDS]);
});

Deno.test("long values are cut, and the worst case stays within MAX_BANNER_BYTES", () => {
  const long = "\x01".repeat(1_000);
  const all = Object.fromEntries(BANNER_FIELDS.map((field) => [field, long]));
  const json = renderBanner(parseBannerTemplate("json"), all);
  assert.ok(json.length <= MAX_BANNER_BYTES, `${json.length}`);
  assert.equal(JSON.parse(decoder.decode(json)).pod.length, MAX_VALUE_LENGTH);
  const text = renderBanner(parseBannerTemplate("{pod}".repeat(51)), all);
  assert.equal(text.length, 51 * MAX_VALUE_LENGTH + 1);
  assert.ok(text.length <= MAX_BANNER_BYTES);
});

/** A connection whose peer sends `chunks` (and then ends, if `end`). */
async function peerSending(
  chunks: string[],
  end: boolean,
): Promise<{ conn: Deno.Conn } & AsyncDisposable> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const accepted = await listener.accept();
  listener.close();
  for (const chunk of chunks) await accepted.write(encoder.encode(chunk));
  if (end) await accepted.closeWrite();
  return {
    conn,
    [Symbol.asyncDispose](): Promise<void> {
      accepted.close();
      try {
        conn.close();
      } catch {
        // Closed by readBanner's timeout.
      }
      return Promise.resolve();
    },
  };
}

Deno.test("readBanner takes the line however it is split, and tells a silent, closing or chatty server apart", async () => {
  {
    await using peer = await peerSending(["po", "d-a", "\n"], false);
    assert.equal(await readBanner(peer.conn, { timeout: 5_000 }), "pod-a");
  }
  {
    await using peer = await peerSending([], false);
    await assert.rejects(
      readBanner(peer.conn, { timeout: 50 }),
      (error) =>
        error instanceof TimeoutError &&
        /No banner line within 50(\.0)? ms: is the server started with --banner\?/
          .test(error.message),
    );
  }
  {
    await using peer = await peerSending(["half"], true);
    await assert.rejects(
      readBanner(peer.conn, { timeout: 5_000 }),
      (error) =>
        error instanceof EchoMismatchError &&
        /closed the connection before sending its banner/.test(error.message) &&
        error.received.length === 0, // not echo: nothing to print
    );
  }
  {
    await using peer = await peerSending(["pod-a\nextra"], false);
    await assert.rejects(
      readBanner(peer.conn, { timeout: 5_000 }),
      /more than its banner line/,
    );
  }
  {
    await using peer = await peerSending(["x".repeat(MAX_BANNER_BYTES)], false);
    await assert.rejects(
      readBanner(peer.conn, { timeout: 5_000 }),
      /bytes before any echo and no banner line/,
    );
  }
});

Deno.test("a datagram splits at its first newline; one without a banner is told apart", () => {
  const split = splitBannerDatagram(
    encoder.encode("pod-a\nhello\nworld"),
    encoder.encode("hello\nworld"),
  );
  assert.equal(split?.banner, "pod-a");
  assert.equal(decoder.decode(split?.echo), "hello\nworld");
  assert.equal(
    splitBannerDatagram(encoder.encode("hello"), encoder.encode("hello")),
    undefined,
  );
  assert.equal(
    splitBannerDatagram(encoder.encode("a\nb"), encoder.encode("a\nb")),
    undefined,
    "the datagram itself back, newline and all",
  );
});

Deno.test("backends are named by a JSON banner's pod or hostname, else by the line, printable only", () => {
  assert.equal(backendOf('{"pod":"echo-0","hostname":"h"}'), "echo-0");
  assert.equal(backendOf('{"pod":null,"hostname":"h"}'), "h");
  assert.equal(backendOf("{not json"), "{not json");
  assert.equal(backendOf("pod-a\x1b[2J"), "pod-a?[2J");
  assert.equal(backendOf("x".repeat(10_000)).length, MAX_VALUE_LENGTH);
  assert.equal(
    backendOf(`{"pod":"${"y".repeat(10_000)}"}`).length,
    MAX_VALUE_LENGTH,
  );
});

Deno.test("the tally counts per backend, most first, and stays bounded whatever the server sends", () => {
  const tally = new BackendTally();
  for (const name of ["b", "a", "b", "__proto__"]) tally.add(name);
  assert.deepEqual(Object.entries(tally.toJson()), [
    ["b", 2],
    ["__proto__", 1],
    ["a", 1],
  ]);
  assert.equal(formatBackends({ a: 1, b: 3 }), "b 75 % (3), a 25 % (1)");
  assert.equal(formatBackends({ a: 0 }), "", "no NaN %");
  const flood = new BackendTally();
  for (let i = 0; i < MAX_BACKENDS + 100; i++) flood.add(`peer:${i}`);
  const counts = flood.toJson();
  assert.equal(Object.keys(counts).length, MAX_BACKENDS + 1);
  assert.equal(counts[OTHER_BACKENDS], 100);
});
