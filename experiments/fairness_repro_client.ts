/**
 * Minimal reproduction for the Deno maintainers, client side: a plain
 * Deno.Conn ping-pong client with 500 connections against a fast echo server
 * (the team's C epoll server) serves some connections hundreds of ms late,
 * even with `DENO_TOKIO_MAX_IO_EVENTS_PER_TICK=128`, which fixes the server
 * side (fairness_repro.ts). Run it as written and with `--read-first`:
 *
 *   c_epoll_echo 7100 127.0.0.1 &
 *   DENO_TOKIO_MAX_IO_EVENTS_PER_TICK=128 deno run --allow-net \
 *     experiments/fairness_repro_client.ts 7100
 *   DENO_TOKIO_MAX_IO_EVENTS_PER_TICK=128 deno run --allow-net \
 *     experiments/fairness_repro_client.ts 7100 --read-first
 *
 * Written, read and resolved in the same turn: a read posted after the write
 * finds a fast server's echo already there and completes at once, so the
 * connections served in a turn go round again ahead of all the others. With
 * `--read-first` the read is posted before the write, waits in the runtime's
 * queue like every other, and each connection gets the same share.
 * experiments/README.md ("Fairness") has the output.
 *
 * @module
 */

const port = Number(Deno.args[0] ?? 7100);
const readFirst = Deno.args.includes("--read-first");
const connections = 500;
const size = 1024;
const seconds = 5;

const latencies: number[] = [];
const roundTrips = new Array<number>(connections).fill(0);
let running = true;
setTimeout(() => running = false, seconds * 1000);

async function pingPong(id: number): Promise<void> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const message = new Uint8Array(size).fill(id % 256);
  const echo = new Uint8Array(size);
  while (running) {
    const sent = performance.now();
    let received = 0;
    if (readFirst) {
      const first = conn.read(echo);
      await conn.write(message); // 1 KiB: never a partial write here
      received = (await first) ?? 0;
    } else {
      await conn.write(message);
    }
    while (received < size) {
      const n = await conn.read(echo.subarray(received));
      if (n === null) throw new Error("closed mid-echo");
      received += n;
    }
    latencies.push(performance.now() - sent);
    roundTrips[id]!++;
  }
}

await Promise.all(Array.from({ length: connections }, (_, id) => pingPong(id)));
latencies.sort((a, b) => a - b);
roundTrips.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.floor(p * latencies.length)]!;
// A stand-alone script for the runtime's maintainers: plain console output.
// deno-lint-ignore no-console
console.log(
  `read ${readFirst ? "before" : "after"} write: ` +
    `${Math.round(latencies.length / seconds)} rtt/s, p50 ${
      at(0.5).toFixed(2)
    } ms, p99 ${at(0.99).toFixed(2)} ms, p99.9 ${
      at(0.999).toFixed(2)
    } ms; round trips per connection ${roundTrips[0]} to ${roundTrips.at(-1)}`,
);
