/**
 * Shutdown ends on time whatever clients are in the middle of: after
 * SIGTERM the server prints its summary and exits within
 * `--drain-timeout` plus a second.
 */

import assert from "node:assert/strict";
import { startServer } from "./_helpers.ts";

const DRAIN_MS = 500;

/**
 * Sends SIGTERM and asserts a summary and exit 0. The bound is loose (the
 * promise is drain + 1 s; a busy CI machine gets two more) but far below
 * the deadlines that held shutdown up before: a 10 s handshake or header
 * deadline, or forever.
 */
async function assertStopsOnTime(
  server: Awaited<ReturnType<typeof startServer>>,
): Promise<void> {
  const started = performance.now();
  server.process.kill("SIGTERM");
  const status = await server.process.status;
  const elapsedMs = performance.now() - started;
  assert.equal(status.code, 0, server.stderr.lines.join("\n"));
  assert.ok(
    server.stderr.lines.some((line) => / stopped /.test(line)),
    "the summary is printed",
  );
  assert.ok(
    elapsedMs < DRAIN_MS + 3_000,
    `exited ${Math.round(elapsedMs)} ms after SIGTERM`,
  );
}

for (
  const [name, args] of [
    ["a silent TLS client without a handshake deadline", [
      "--tls",
      "--handshake-timeout",
      "0s",
    ]],
    ["a silent TLS client with a handshake deadline", [
      "--tls",
      "--handshake-timeout",
      "60s",
    ]],
    ["a PROXY header that never completes", [
      "--proxy-protocol",
      "--proxy-optional",
      "--handshake-timeout",
      "60s",
    ]],
  ] as const
) {
  Deno.test(`SIGTERM ends the server within the drain timeout despite ${name}`, async () => {
    await using server = await startServer([
      ...args,
      "--drain-timeout",
      `${DRAIN_MS}ms`,
    ]);
    using silent = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    if (args[0] === "--proxy-protocol") {
      await silent.write(new TextEncoder().encode("PROXY TCP4 "));
    }
    // Connections are accepted in order: once a later client is served,
    // the server holds the silent one.
    using probe = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    if (args[0] === "--proxy-protocol") {
      await probe.write(new TextEncoder().encode("hello"));
      await server.stderr.waitFor(/ open conn=1 /);
    } else {
      await server.stderr.waitFor(/ open conn=2 /);
    }
    probe.close();
    await assertStopsOnTime(server);
  });
}
