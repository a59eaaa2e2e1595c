/**
 * Minimal reproduction for the Deno maintainers: with more than 128 ready
 * sockets, a plain Deno.Conn echo loop serves some of them up to a second
 * late (since Deno 2.3.7, tokio 1.44+). Load it with the team's C load
 * generator (500 connections ping-ponging 1 KiB, every byte verified):
 *
 *   deno run --allow-net experiments/fairness_repro.ts 7100 &
 *   echoload --host 127.0.0.1 --port 7100 --mode pingpong --conns 500 \
 *     --size 1024 --duration 5 --warmup 1
 *
 * and again with `DENO_TOKIO_MAX_IO_EVENTS_PER_TICK=128` in the server's
 * environment. experiments/README.md ("Fairness") has the output and the cause.
 *
 * @module
 */

const listener = Deno.listen({
  hostname: "127.0.0.1",
  port: Number(Deno.args[0] ?? 7100),
});
for await (const conn of listener) {
  (async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        let written = 0;
        while (written < n) {
          written += await conn.write(buffer.subarray(written, n));
        }
      }
    } catch {
      // A reset ends this connection only.
    }
    conn.close();
  })();
}
