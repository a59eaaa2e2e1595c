/**
 * The child process of the descriptor-exhaustion test: an admin server in
 * a process that then uses up every descriptor it may open (run it under
 * `prlimit --nofile=N`), by connecting to itself.
 *
 * stdout: `admin PORT`, then `exhausted COUNT ERROR`, then one
 * `accept-error KIND` per failed admin accept, and `released` after each
 * `release` line on stdin (which frees 16 descriptors). At the end of
 * stdin it closes everything and exits 0. Errors are printed by message:
 * formatting a stack while descriptors are exhausted makes Deno panic.
 */

import { startAdminServer } from "../../lib/admin/mod.ts";

const MAX_HELD = 100_000; // the descriptor limit ends the loop far sooner
const encoder = new TextEncoder();

/** One line on stdout (needs no new descriptor, unlike most of Deno). */
function say(line: string): void {
  const bytes = encoder.encode(`${line}\n`);
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

await using admin = startAdminServer({
  hostname: "127.0.0.1",
  port: 0,
  ready: () => true,
  metrics: () => "",
  metricsContentType: "text/plain",
  onAcceptError: ({ kind }) => say(`accept-error ${kind}`),
});
say(`admin ${admin.addr.port}`);

using sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const held: Deno.Conn[] = [];
try {
  while (held.length < MAX_HELD) {
    held.push(
      await Deno.connect({ hostname: "127.0.0.1", port: sink.addr.port }),
    );
    held.push(await sink.accept());
  }
  say(`not exhausted after ${held.length}`);
} catch (error) {
  say(`exhausted ${held.length} ${String(error)}`);
}

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
for await (const chunk of lines) {
  for (const line of chunk.split("\n")) {
    if (line !== "release") continue;
    for (const conn of held.splice(0, 16)) conn.close();
    say("released");
  }
}
for (const conn of held) conn.close();
