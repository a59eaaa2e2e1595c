/**
 * `echo-server health` against a ready, a draining and a stopped server,
 * and `--shutdown-delay`: still serving, not ready, then the drain.
 */

import assert from "node:assert/strict";
import { connect, runServer, startServer } from "./_helpers.ts";

const encoder = new TextEncoder();

function adminUrl(lines: string[]): string {
  const line = lines.find((each) => each.startsWith("admin listening on "));
  return `${line?.slice("admin listening on ".length)}/readyz`;
}

Deno.test("echo-server health: 0 for a ready server, 1 while it drains and once it has stopped; silent unless --verbose", async () => {
  await using server = await startServer([
    "--admin-port",
    "0",
    "--shutdown-delay",
    "10s",
    "--quiet",
  ]);
  await server.stdout.waitFor(/^admin listening on /);
  const url = adminUrl(server.stdout.lines);
  const ready = await runServer(["health", url]);
  assert.equal(ready.code, 0, ready.stderr);
  assert.equal(ready.stdout.length, 0, "nothing printed");
  const verbose = await runServer(["health", "--verbose", url]);
  assert.equal(new TextDecoder().decode(verbose.stdout), `${url}: 200 OK\n`);

  server.process.kill("SIGTERM");
  await server.stderr.waitFor(/ shutdown-delay signal=SIGTERM delay_ms=10000/);
  const draining = await runServer(["health", "--verbose", url]);
  assert.equal(draining.code, 1);
  assert.match(
    new TextDecoder().decode(draining.stdout),
    /: 503 Service Unavailable\n$/,
  );
  // During the delay, a new client is still served.
  using conn = await connect(server.port);
  await conn.write(encoder.encode("still here"));
  const echo = new Uint8Array(10);
  let filled = 0;
  while (filled < echo.length) {
    filled += (await conn.read(echo.subarray(filled))) ?? echo.length;
  }
  assert.equal(new TextDecoder().decode(echo), "still here");
  conn.close();
  server.process.kill("SIGKILL");
  await server.process.status;
  const stopped = await runServer(["health", "--timeout", "1s", url]);
  assert.equal(stopped.code, 1);
  const bad = await runServer(["health", "ftp://x/readyz"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --url: Invalid URL "ftp:\/\/x\/readyz"/);
});

Deno.test("--shutdown-delay: after the delay the drain runs as before, and the server exits 0", async () => {
  await using server = await startServer([
    "--shutdown-delay",
    "300ms",
    "--drain-timeout",
    "1s",
    "--quiet",
  ]);
  const started = performance.now();
  server.process.kill("SIGTERM");
  await server.stderr.waitFor(/ shutdown-delay /);
  await server.stderr.waitFor(/ shutdown signal=SIGTERM /);
  assert.equal((await server.process.status).code, 0);
  assert.ok(performance.now() - started >= 290, "the delay came first");
  await server.stderr.done;
  assert.match(server.stderr.lines.at(-1) ?? "", / stopped /);
});
