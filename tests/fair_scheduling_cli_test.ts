/**
 * Fair scheduling (see lib/net/fair_scheduling.ts): the server's and the
 * load generator's socket work runs in Workers with the setting in force,
 * and a user's own value is kept. No timing here; the effect on the tail
 * is measured in experiments/README.md.
 */

import assert from "node:assert/strict";
import {
  PROGRAM_PERMISSIONS,
  runClient,
  SERVER_SCRIPT,
  startServer,
} from "./_helpers.ts";

const VARIABLE = "DENO_TOKIO_MAX_IO_EVENTS_PER_TICK";

Deno.test("the server serves from Workers whose runtime starts with 128 I/O events per turn", async () => {
  await using server = await startServer(["--workers", "2"]);
  const serving = await server.stderr.waitFor(/ serving /);
  assert.match(
    serving,
    / serving threads=2 in_workers=true max_io_events_per_tick=128$/,
  );
});

Deno.test("the server keeps a user's own value of the setting", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PROGRAM_PERMISSIONS, SERVER_SCRIPT, "--port", "0"],
    env: { [VARIABLE]: "64" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/ serving .*\n/.test(text)) {
    const { value, done } = await stderr.read();
    if (done) break;
    text += value;
  }
  child.kill("SIGTERM");
  await child.status;
  await stderr.cancel();
  assert.match(
    text,
    / serving threads=1 in_workers=true max_io_events_per_tick=64\n/,
  );
});

Deno.test("without read permission for lib/ the server still serves, in its own thread, and says it is not fair", async () => {
  await using server = await startServer([], { permissions: ["--allow-net"] });
  const warning = await server.stderr.waitFor(/ warning /);
  assert.match(warning, /serving without fair scheduling/);
  assert.match(
    await server.stderr.waitFor(/ serving threads=/),
    / in_workers=false max_io_events_per_tick=default$/,
  );
});

Deno.test("echo-client bench runs its load with the setting in force, and reports it", async () => {
  await using server = await startServer(["--quiet"]);
  const result = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--count",
    "200",
    "--connections",
    "4",
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(new TextDecoder().decode(result.stdout));
  assert.equal(report.completed, 200);
  assert.equal(report.max_io_events_per_tick, "128");
});
