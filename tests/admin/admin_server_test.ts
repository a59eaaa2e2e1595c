import assert from "node:assert/strict";
import { startAdminServer } from "../../lib/admin/mod.ts";
import { readToEnd } from "../_helpers.ts";

/** Sends one raw request and returns the whole response. */
async function request(port: number, head: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(head));
  return new TextDecoder().decode(await readToEnd(conn));
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

Deno.test("admin endpoint: health, readiness, metrics, 404 and 405", async () => {
  let ready = false;
  await using admin = startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    ready: () => ready,
    metrics: () => "# HELP x X.\n# TYPE x gauge\nx 1\n",
    metricsContentType: "text/plain; version=0.0.4",
  });
  const { port } = admin.addr;
  assert.match(await request(port, get("/healthz")), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(await request(port, get("/readyz")), /^HTTP\/1\.1 503 /);
  ready = true;
  assert.match(await request(port, get("/readyz?verbose")), /^HTTP\/1\.1 200 /);
  const metrics = await request(port, get("/metrics"));
  assert.match(metrics, /Content-Type: text\/plain; version=0\.0\.4\r\n/);
  assert.match(metrics, /Content-Length: 31\r\n/);
  assert.match(metrics, /\r\n\r\n# HELP x X\.\n# TYPE x gauge\nx 1\n$/);
  assert.match(await request(port, get("/")), /^HTTP\/1\.1 404 /);
  const post = await request(
    port,
    "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
  );
  assert.match(post, /^HTTP\/1\.1 405 .*\r\n(.*\r\n)*Allow: GET\r\n/);
});

Deno.test("admin endpoint is bounded: connections beyond the limit are closed at once, a slow request is cut at the deadline", async () => {
  await using admin = startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    ready: () => true,
    metrics: () => "",
    metricsContentType: "text/plain",
    maxConnections: 4,
    timeout: 200,
  });
  const { port } = admin.addr;
  // Four clients that send half a request and stop: they hold every slot.
  const slow = await Promise.all(
    Array.from(
      { length: 4 },
      () => Deno.connect({ hostname: "127.0.0.1", port }),
    ),
  );
  try {
    for (const conn of slow) {
      await conn.write(new TextEncoder().encode("GET /hea"));
    }
    // A fifth is closed without an answer while they hold the slots...
    assert.equal(await request(port, get("/healthz")), "");
    // ...and the slow ones are cut off at the deadline, unanswered.
    for (const conn of slow) assert.equal((await readToEnd(conn)).length, 0);
  } finally {
    for (const conn of slow) conn.close();
  }
  // Then the endpoint answers again.
  assert.match(await request(port, get("/healthz")), /^HTTP\/1\.1 200 /);
});
