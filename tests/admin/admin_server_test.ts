import assert from "node:assert/strict";
import {
  type AdminServer,
  type AdminServerOptions,
  startAdminServer,
} from "../../lib/admin/mod.ts";
import { delay } from "../../lib/net/mod.ts";
import { get, readUntilClosed, request, statusLine } from "./_http_client.ts";

const encoder = new TextEncoder();

function start(options: Partial<AdminServerOptions> = {}): AdminServer {
  return startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    ready: () => true,
    metrics: () => "",
    metricsContentType: "text/plain",
    ...options,
  });
}

Deno.test("admin endpoint answers health, readiness and metrics, 404 for other paths and 405 with Allow for other methods", async () => {
  let ready = false;
  await using admin = start({
    ready: () => ready,
    metrics: () => "# HELP x X.\n# TYPE x gauge\nx 1\n",
    metricsContentType: "text/plain; version=0.0.4",
  });
  const { port } = admin.addr;
  const health = await request(port, get("/healthz"));
  assert.match(health, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(health, /\r\nContent-Length: 3\r\n/);
  assert.match(health, /\r\nConnection: close\r\n/);
  assert.match(health, /\r\n\r\nok\n$/);
  assert.match(await request(port, get("/readyz")), /^HTTP\/1\.1 503 /);
  ready = true;
  assert.match(await request(port, get("/readyz?verbose")), /^HTTP\/1\.1 200 /);
  const metrics = await request(port, get("/metrics"));
  assert.match(metrics, /Content-Type: text\/plain; version=0\.0\.4\r\n/);
  assert.match(metrics, /Content-Length: 31\r\n/);
  assert.match(metrics, /\r\n\r\n# HELP x X\.\n# TYPE x gauge\nx 1\n$/);
  assert.match(await request(port, get("/")), /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(await request(port, get("/nope", "POST")), /^HTTP\/1\.1 404 /);
  for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "get"]) {
    const refused = await request(port, get("/metrics", method));
    assert.match(refused, /^HTTP\/1\.1 405 Method Not Allowed\r\n/, method);
    assert.match(refused, /\r\nAllow: GET, HEAD\r\n/, method);
  }
});

Deno.test("HEAD works on every GET route: the same headers, Content-Length included, and no body", async () => {
  await using admin = start({ metrics: () => "x 1\n" });
  const { port } = admin.addr;
  for (const path of ["/healthz", "/readyz", "/metrics"]) {
    const got = await request(port, get(path));
    const head = await request(port, get(path, "HEAD"));
    const [gotHead = "", body = ""] = got.split("\r\n\r\n");
    assert.equal(head, `${gotHead}\r\n\r\n`, path);
    assert.match(head, new RegExp(`\r\nContent-Length: ${body.length}\r\n`));
    assert.ok(body.length > 0, path);
  }
});

Deno.test("admin routes match paths exactly: inherited names, case, a trailing slash or an encoding find nothing", async () => {
  await using admin = start();
  const { port } = admin.addr;
  for (
    const path of [
      "/toString",
      "/constructor",
      "/__proto__",
      "/hasOwnProperty",
      "/HEALTHZ",
      "/healthz/",
      "/healthz%20",
      "//healthz",
    ]
  ) {
    const response = await request(port, get(path));
    assert.match(response, /^HTTP\/1\.1 404 Not Found\r\n/, path);
    assert.match(response, /\r\n\r\nnot found\n$/, path);
  }
  // A bare name is not origin-form at all.
  for (const target of ["toString", "constructor"]) {
    const response = await request(port, get(target));
    assert.equal(statusLine(response), "HTTP/1.1 400 Bad Request", target);
  }
});

Deno.test("admin endpoint answers 400 to anything but method SP origin-form SP HTTP/1.x with CRLF lines, and 431 to a head over 8 KiB", async () => {
  await using admin = start();
  const { port } = admin.addr;
  const malformed = [
    "GET  /healthz HTTP/1.1\r\n\r\n",
    "GET /healthz  HTTP/1.1\r\n\r\n",
    "GET /healthz HTTP/1.1 \r\n\r\n",
    " GET /healthz HTTP/1.1\r\n\r\n",
    "GET\t/healthz HTTP/1.1\r\n\r\n",
    "G(T /healthz HTTP/1.1\r\n\r\n",
    "GET /healthz\r\n\r\n",
    "GET /healthz HTTP/2.0\r\n\r\n",
    "GET /healthz HTTP/1.10\r\n\r\n",
    "GET /healthz http/1.1\r\n\r\n",
    "GET http://x/healthz HTTP/1.1\r\n\r\n",
    "GET * HTTP/1.1\r\n\r\n",
    "GET /heal th HTTP/1.1\r\n\r\n",
    "GET /health#z HTTP/1.1\r\n\r\n",
    "GET /healthz%zz HTTP/1.1\r\n\r\n",
    "GET /healthz HTTP/1.1\n\n",
    "GET /healthz HTTP/1.1\r\nHost: x\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nno colon\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nX: a\0b\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nX: a\rb\r\n\r\n",
    "\r\nGET /healthz HTTP/1.1\r\n\r\n",
  ];
  for (const head of malformed) {
    const response = await request(port, head);
    assert.equal(
      statusLine(response),
      "HTTP/1.1 400 Bad Request",
      JSON.stringify(head),
    );
  }
  const valid = [
    "GET /healthz HTTP/1.0\r\n\r\n",
    "GET /healthz?a=1&b=%20/?x HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nX-Empty:\r\nX-Text: caf\u00e9 \t!\r\n\r\n",
  ];
  for (const head of valid) {
    const response = await request(port, head);
    assert.equal(statusLine(response), "HTTP/1.1 200 OK", JSON.stringify(head));
  }
  // Exactly 8 KiB without the end of the head: everything sent is read,
  // so the answer is not lost to a reset.
  const large = "GET /healthz HTTP/1.1\r\nX: ".padEnd(8 * 1024, "a");
  assert.equal(
    statusLine(await request(port, large)),
    "HTTP/1.1 431 Request Header Fields Too Large",
  );
});

Deno.test("a connection that sends no complete request head is closed unanswered at the header deadline", async () => {
  await using admin = start({ headerTimeout: 200 });
  const { port } = admin.addr;
  using silent = await Deno.connect({ hostname: "127.0.0.1", port });
  using slow = await Deno.connect({ hostname: "127.0.0.1", port });
  await slow.write(encoder.encode("GET /heal"));
  const [silentEnd, slowEnd] = await Promise.all([
    readUntilClosed(silent),
    readUntilClosed(slow),
  ]);
  assert.equal(silentEnd.text, "");
  assert.equal(slowEnd.text, "");
  assert.match(await request(port, get("/healthz")), /^HTTP\/1\.1 200 /);
});

Deno.test("when every slot is taken, a new connection replaces the oldest one still waiting for its request head", async () => {
  await using admin = start({
    maxConnections: 4,
    evictionGrace: 0,
    headerTimeout: 60_000,
  });
  const { port } = admin.addr;
  const waiting: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      waiting.push(conn);
      await conn.write(encoder.encode("GET /hea"));
    }
    const [oldest, ...rest] = waiting as [Deno.Conn, ...Deno.Conn[]];
    // The probe takes the oldest one's slot and is answered...
    assert.match(await request(port, get("/healthz")), /^HTTP\/1\.1 200 /);
    // ...which is closed unanswered; the other three still wait.
    assert.equal((await readUntilClosed(oldest)).text, "");
    assert.equal(admin.evicted, 1);
    const ends = Promise.all(rest.map((conn) => readUntilClosed(conn)));
    await admin[Symbol.asyncDispose](); // closes waiting connections at once
    for (const end of await ends) assert.equal(end.text, "");
  } finally {
    for (const conn of waiting) conn.close();
  }
});

Deno.test("a connection being answered keeps its slot: a new one finds none free and is closed at once", async () => {
  const big = "x".repeat(16 * 1024 * 1024); // more than socket buffers hold
  await using admin = start({
    maxConnections: 1,
    evictionGrace: 0,
    metrics: () => big,
  });
  const { port } = admin.addr;
  using scraper = await Deno.connect({ hostname: "127.0.0.1", port });
  await scraper.write(encoder.encode(get("/metrics")));
  // Its answer has begun: the head has been read, the slot is busy.
  const first = new Uint8Array(1024);
  const n = await scraper.read(first) ?? 0;
  assert.ok(n > 0);
  assert.equal(await request(port, get("/healthz")), "");
  assert.equal(admin.evicted, 1);
  // Once the scraper has its answer, the slot is free again.
  const rest = await readUntilClosed(scraper);
  assert.match(rest.text, /x$/);
  assert.equal(rest.reset, false);
  assert.match(await request(port, get("/healthz")), /^HTTP\/1\.1 200 /);
});

Deno.test("a reader too slow for its answer is cut at the deadline", async () => {
  // Far more than socket buffers hold (a few MiB on loopback).
  const big = "x".repeat(32 * 1024 * 1024);
  await using admin = start({ timeout: 300, metrics: () => big });
  const { port } = admin.addr;
  using scraper = await Deno.connect({ hostname: "127.0.0.1", port });
  await scraper.write(encoder.encode(get("/metrics")));
  // The slow reader: it reads nothing for longer than the deadline (the
  // pause is the behaviour under test), then reads what was sent.
  await delay(1_000);
  const end = await readUntilClosed(scraper);
  assert.match(end.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(end.text.length < big.length, `${end.text.length} bytes`);
});

Deno.test("/faults: GET shows them, PUT replaces them from a body of Content-Length bytes, 403 when read-only", async () => {
  const bodies: string[] = [];
  await using admin = start({
    faults: {
      show: () => '{"delay":"1ms"}',
      change: (body) => {
        bodies.push(body);
        return body === "bad" ? { error: "not faults" } : { json: body };
      },
    },
  });
  const { port } = admin.addr;
  const shown = await request(port, get("/faults"));
  assert.match(
    shown,
    /^HTTP\/1\.1 200 OK\r\nContent-Type: application\/json\r\n/,
  );
  assert.match(shown, /\r\n\r\n\{"delay":"1ms"\}\n$/);
  const put = (
    body: string,
    headers = `Content-Length: ${body.length}\r\n`,
    host = "127.0.0.1:9090",
  ) =>
    request(
      port,
      `PUT /faults HTTP/1.1\r\nHost: ${host}\r\n${headers}\r\n${body}`,
    );
  assert.match(
    await put('{"delay":"2ms"}'),
    /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n\{"delay":"2ms"\}\n$/,
  );
  assert.match(
    await put("bad"),
    /^HTTP\/1\.1 400 [\s\S]*\r\n\r\nnot faults\n$/,
  );
  // The body may arrive after the head, in pieces.
  {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      encoder.encode("PUT /faults HTTP/1.1\r\nContent-Length: 4\r\n\r\n{}"),
    );
    await delay(50);
    await conn.write(encoder.encode("  "));
    assert.match((await readUntilClosed(conn)).text, /^HTTP\/1\.1 200 /);
  }
  assert.deepEqual(bodies, ['{"delay":"2ms"}', "bad", "{}  "]);
  for (
    const headers of [
      "Content-Length: 1\r\nContent-Length: 1\r\n",
      "Content-Length: +1\r\n",
      "Content-Length: 1, 1\r\n",
      "Transfer-Encoding: chunked\r\n",
    ]
  ) {
    assert.match(await put("x", headers), /^HTTP\/1\.1 400 /, headers);
  }
  assert.match(
    await put("", "Content-Length: 4097\r\n"),
    /^HTTP\/1\.1 413 Content Too Large\r\n/,
  );
  // DNS rebinding: a page on a name it controls, resolved to 127.0.0.1.
  assert.match(
    await put('{"delay":"1s"}', undefined, "attacker.example:9090"),
    /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*Host to be localhost or an IP address/,
  );
  assert.match(
    await put("{}", undefined, "localhost:9090"),
    /^HTTP\/1\.1 200 /,
  );
  assert.match(await put("{}", undefined, "[::1]:9090"), /^HTTP\/1\.1 200 /);
  assert.equal(bodies.length, 5, "no refused body reached the route");
  assert.match(
    await request(port, get("/faults", "DELETE")),
    /^HTTP\/1\.1 405 [\s\S]*\r\nAllow: GET, HEAD, PUT\r\n/,
  );

  await using readOnly = start({ faults: { show: () => "{}" } });
  assert.match(
    await request(
      readOnly.addr.port,
      "PUT /faults HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
    ),
    /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*--admin-faults/,
  );
  await using none = start();
  assert.match(
    await request(none.addr.port, get("/faults")),
    /^HTTP\/1\.1 404 /,
  );
});

Deno.test("a connection still sending its body can be evicted: slow bodies do not keep probes out", async () => {
  await using admin = start({ maxConnections: 4, evictionGrace: 50 });
  const { port } = admin.addr;
  const slow: Deno.Conn[] = [];
  for (let i = 0; i < 4; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      encoder.encode("GET /healthz HTTP/1.1\r\nContent-Length: 4096\r\n\r\nx"),
    );
    slow.push(conn);
  }
  try {
    assert.match(await request(port, get("/healthz")), /^HTTP\/1\.1 200 /);
  } finally {
    for (const conn of slow) conn.close();
  }
});
