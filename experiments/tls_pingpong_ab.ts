// A measuring script reports on stdout and stderr.
// deno-lint-ignore-file no-console
/**
 * Interleaved A/B ping-pong over TLS, for servers the team's load generator
 * cannot load (echoload speaks plain TCP only). Every round runs each
 * server once, in a rotating order, with the same client: `--conns`
 * connections (TCP without Nagle, then `Deno.startTls`), opened one at a
 * time with one timed echo each, then all ping-ponging `--size` bytes for
 * `--seconds` after `--warmup`; the round trips are counted and every
 * echo is compared with what was sent. Ratios are taken within a round
 * (to the first server), so a machine that slows down for a while (other
 * work on it) hits both sides of a ratio.
 *
 * Each server is `NAME=SCRIPT [ARGS...]`: a `server.ts` run like
 * `deno task serve` with `--tls --port 0 --quiet --tls-cert-out FILE`
 * added. With `--pin`, servers run on CPU 0 and the client on CPU 1.
 *
 *   deno run -A experiments/tls_pingpong_ab.ts --rounds 8 \
 *     "direct=server.ts --handshake-timeout 0s" "ours=server.ts"
 *
 * Output: one line per round (per server: round trips per second, server
 * CPU time per round trip, and both as ratios to the first server), then
 * per server the first echo's latency (a record written behind the
 * session tickets waits 40 ms for a delayed ACK if the server's socket
 * keeps Nagle on; the client's sockets have it off), and the median ratios
 * with their min-max over rounds. The CPU ratio holds up better than the
 * rate when other work shares the machine.
 *
 * @module
 */

import { parseArgs } from "node:util";

const CLIENT_FLAG = "--client";

interface ClientResult {
  roundTrips: number;
  seconds: number;
  errors: number;
  /** Each connection's first round trip after its handshake, in ms. */
  firstEchoMs: number[];
}

/** CPU time (user + system) a process has used, in seconds (Linux). */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields, in clock ticks (100 per second on Linux).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The load: runs in its own process, prints one JSON line. */
async function runClient(args: string[]): Promise<void> {
  const [port, caFile, conns, size, warmup, seconds] = args;
  const caCerts = [await Deno.readTextFile(caFile!)];
  const message = new Uint8Array(Number(size));
  // Connections open one at a time, each echoing once right after its
  // handshake, before the load: what a delayed ACK adds shows up alone.
  const sockets: Deno.TlsConn[] = [];
  const firstEchoMs: number[] = [];
  for (let i = 0; i < Number(conns); i++) {
    // Deno.TlsConn has no setNoDelay: set it on the TCP socket first.
    const tcp = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(port),
    });
    tcp.setNoDelay(true);
    const conn = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts });
    sockets.push(conn);
    await conn.handshake();
    const start = performance.now();
    let written = 0;
    while (written < message.length) {
      written += await conn.write(message.subarray(written));
    }
    let got = 0;
    while (got < message.length) {
      const n = await conn.read(new Uint8Array(message.length - got));
      if (n === null) throw new Error("Unexpected end of stream");
      got += n;
    }
    firstEchoMs.push(performance.now() - start);
  }
  let counting = false;
  let stop = false;
  let roundTrips = 0;
  let errors = 0;
  const one = async (conn: Deno.TlsConn, id: number): Promise<void> => {
    const echo = new Uint8Array(message.length);
    for (let i = 0; !stop; i++) {
      message.fill((id + i) & 0xff);
      const sent = message.slice();
      let written = 0;
      while (written < sent.length) {
        written += await conn.write(sent.subarray(written));
      }
      let got = 0;
      while (got < echo.length) {
        const n = await conn.read(echo.subarray(got));
        if (n === null) throw new Error("Unexpected end of stream");
        got += n;
      }
      if (echo.some((byte, k) => byte !== sent[k])) errors++;
      if (counting) roundTrips++;
    }
  };
  const running = sockets.map((conn, id) =>
    one(conn, id).catch(() => {
      errors++;
    })
  );
  await new Promise((resolve) => setTimeout(resolve, Number(warmup) * 1000));
  counting = true;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
  counting = false;
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  await Promise.all(running);
  for (const conn of sockets) conn.close();
  const result: ClientResult = {
    roundTrips,
    seconds: elapsed,
    errors,
    firstEchoMs,
  };
  console.log(JSON.stringify(result));
}

interface Server {
  name: string;
  port: number;
  certFile: string;
  process: Deno.ChildProcess;
}

async function startServer(
  spec: string,
  dir: string,
  pin: boolean,
): Promise<Server> {
  const eq = spec.indexOf("=");
  if (eq <= 0) {
    throw new TypeError(`Bad server "${spec}": expected NAME=SCRIPT`);
  }
  const name = spec.slice(0, eq);
  const [script, ...extra] = spec.slice(eq + 1).split(" ").filter(Boolean);
  const certFile = `${dir}/${name}.pem`;
  const deno = [
    Deno.execPath(),
    "run",
    "--allow-net",
    "--allow-read",
    `--allow-write=${dir}`,
    "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK",
    "--v8-flags=--max-semi-space-size=4",
    script!,
    "--tls",
    "--port",
    "0",
    "--quiet",
    "--tls-cert-out",
    certFile,
    ...extra,
  ];
  const command = pin ? ["taskset", "-c", "0", ...deno] : deno;
  const process = new Deno.Command(command[0]!, {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!/\n/.test(text)) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`${name} exited before listening`);
    text += value;
  }
  lines.releaseLock();
  process.stdout.cancel().catch(() => {});
  const port = Number(/listening on tls [^\n]*:(\d+)\n/.exec(text)?.[1]);
  if (!(port > 0)) throw new Error(`${name}: no listening line in "${text}"`);
  return { name, port, certFile, process };
}

interface Cell {
  /** Round trips per second. */
  rate: number;
  /** Server CPU per round trip, in microseconds. */
  cpuUs: number;
  /** The connections' first round trips, in ms. */
  firstEchoMs: number[];
}

async function measure(server: Server, options: Options): Promise<Cell> {
  const args = [
    "run",
    "--allow-net=127.0.0.1",
    `--allow-read=${server.certFile}`,
    new URL(import.meta.url).pathname,
    CLIENT_FLAG,
    String(server.port),
    server.certFile,
    String(options.conns),
    String(options.size),
    String(options.warmup),
    String(options.seconds),
  ];
  const command = options.pin
    ? ["taskset", "-c", "1", Deno.execPath(), ...args]
    : [Deno.execPath(), ...args];
  // The server's CPU is counted over the whole client run (connects and
  // warm-up included); the handshakes are the same for every server.
  const cpuBefore = cpuSeconds(server.process.pid);
  const output = await new Deno.Command(command[0]!, {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const cpu = cpuSeconds(server.process.pid) - cpuBefore;
  if (!output.success) throw new Error(`client against ${server.name} failed`);
  const result: ClientResult = JSON.parse(
    new TextDecoder().decode(output.stdout),
  );
  if (result.errors > 0) {
    throw new Error(`${server.name}: ${result.errors} errors`);
  }
  const all = result.roundTrips * (1 + options.warmup / options.seconds);
  return {
    rate: result.roundTrips / result.seconds,
    cpuUs: (cpu / all) * 1e6,
    firstEchoMs: result.firstEchoMs,
  };
}

interface Options {
  conns: number;
  size: number;
  seconds: number;
  warmup: number;
  rounds: number;
  pin: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      conns: { type: "string", default: "50" },
      size: { type: "string", default: "64" },
      seconds: { type: "string", default: "3" },
      warmup: { type: "string", default: "0.5" },
      rounds: { type: "string", default: "6" },
      pin: { type: "boolean", default: false },
    },
  });
  const options: Options = {
    conns: Number(values.conns),
    size: Number(values.size),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    rounds: Number(values.rounds),
    pin: values.pin,
  };
  if (positionals.length < 2) {
    throw new TypeError("Give at least two servers: NAME=SCRIPT [ARGS...]");
  }
  const dir = await Deno.makeTempDir();
  const servers: Server[] = [];
  try {
    for (const spec of positionals) {
      servers.push(await startServer(spec, dir, options.pin));
    }
    console.log(
      `deno ${Deno.version.deno}; ${options.conns} conns x ${options.size} B ` +
        `ping-pong, ${options.seconds} s per cell, ${options.rounds} rounds`,
    );
    const rateRatios = new Map(servers.map((s) => [s.name, [] as number[]]));
    const cpuRatios = new Map(servers.map((s) => [s.name, [] as number[]]));
    const firstEchoes = new Map(servers.map((s) => [s.name, [] as number[]]));
    for (let round = 0; round < options.rounds; round++) {
      const cells = new Map<string, Cell>();
      const order = servers.map((_, i) =>
        servers[(i + round) % servers.length]!
      );
      for (const server of order) {
        cells.set(server.name, await measure(server, options));
      }
      const base = cells.get(servers[0]!.name)!;
      const line = servers.map((s) => {
        const cell = cells.get(s.name)!;
        rateRatios.get(s.name)!.push(cell.rate / base.rate);
        firstEchoes.get(s.name)!.push(...cell.firstEchoMs);
        cpuRatios.get(s.name)!.push(cell.cpuUs / base.cpuUs);
        return `${s.name} ${Math.round(cell.rate)}/s ${
          cell.cpuUs.toFixed(1)
        } us-cpu/rt (${(cell.rate / base.rate).toFixed(2)}x rate, ${
          (cell.cpuUs / base.cpuUs).toFixed(2)
        }x cpu)`;
      });
      console.log(`round ${round + 1}: ${line.join("; ")}`);
    }
    const spread = (r: number[]) =>
      `median ${median(r).toFixed(2)}x, min ${
        Math.min(...r).toFixed(2)
      }x, max ${Math.max(...r).toFixed(2)}x`;
    for (const server of servers) {
      const ms = firstEchoes.get(server.name)!;
      console.log(
        `${server.name}: first echo after the handshake median ${
          median(ms).toFixed(2)
        } ms, max ${
          Math.max(...ms).toFixed(1)
        } ms over ${ms.length} connections`,
      );
    }
    for (const server of servers.slice(1)) {
      console.log(
        `${server.name} / ${servers[0]!.name} over ${options.rounds} rounds: ` +
          `rate ${spread(rateRatios.get(server.name)!)}; ` +
          `server CPU per round trip ${spread(cpuRatios.get(server.name)!)}`,
      );
    }
  } finally {
    for (const server of servers) {
      try {
        server.process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await server.process.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === CLIENT_FLAG) await runClient(Deno.args.slice(1));
  else await main(Deno.args);
}
