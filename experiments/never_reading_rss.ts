// A measurement script prints its table with console, like the reproductions.
// deno-lint-ignore-file no-console
/**
 * How much the server's RSS grows for clients that send and never read
 * (issue 19), and where it goes. `--connections` loopback clients each
 * write `--bytes` and never read. Once the server has (almost) stopped
 * reading, and again after `--idle` seconds without traffic, the server's
 * VmRSS and peak VmHWM are read from /proc/PID/status, and the growth over
 * its RSS at start is split by /proc/PID/smaps into glibc thread arenas
 * (malloc), other anonymous memory (V8's heap and the connection buffers
 * with pages of their own), and file pages (code). Kernel socket buffers,
 * where nearly all the unread bytes wait, are not in the RSS.
 *
 *   bash -c 'ulimit -n 8192; deno run --allow-all experiments/never_reading_rss.ts'
 *
 * Options: `--runs 3`, `--connections 1000`, `--bytes 1048576`,
 * `--idle 30`, and `--probe`, which serves the same echo from a Worker of
 * this script instead of `server.ts`, to print that Worker's
 * `Deno.memoryUsage()` (V8 heap; `external`: ArrayBuffer memory) before
 * and after a full GC (`--expose-gc`, for the measurement only). Every run
 * starts a fresh server with `deno task serve`'s command line and
 * `--port 0`; a run waits at most 90 s for the server to stop reading.
 *
 * Seen on the 2-core test VM, Deno 2.9.6, 1,000 × 1 MiB, default 64 MiB
 * budget, growth in MiB, three runs each:
 *
 * | buffers                          | stopped reading     | after 30 s idle     |
 * | -------------------------------- | ------------------- | ------------------- |
 * | replaced as they grew (before)   | 159.8, 152.2, 145.7 | 111.4, 104.2, 97.7  |
 * | grown in place, own pages (now)  | 126.3, 120.2, 124.4 | 79.7, 72.4, 79.6    |
 *
 * Before, the serving thread's malloc arena kept about 25 MB of freed
 * buffers (gdb `malloc_stats()`: 93 MB held, 68 MB in use). In both, V8's
 * heap holds 30-45 MiB of garbage when the clients stop (3 MiB of it live
 * after a full GC); V8 collects it within about 30 s of idleness. What
 * remains now is the budget, about 4-8 KiB per connection (Rust and
 * small buffers in the arena, V8 objects) and 4-7 MiB of code pages.
 *
 * @module
 */

import {
  BufferBudget,
  DEFAULT_BUFFER_BUDGET,
  ServerMetrics,
  startEchoService,
} from "../lib/server/mod.ts";

const PROBE_WORKER = "never-reading-rss-probe";
const MiB = 1024 * 1024;
const RUN_DEADLINE_MS = 90_000;
const STILL_MS = 3_000;
const STILL_BYTES = 256 * 1024;

/** Deno.memoryUsage() of the serving Worker, before and after a full GC. */
interface WorkerMemory {
  before: Deno.MemoryUsage;
  afterGc?: Deno.MemoryUsage;
  bufferBytes: number;
}

if ((globalThis as { name?: string }).name === PROBE_WORKER) {
  probeWorker();
} else if (Deno.args[0] === "--probe-server") {
  await probeServer();
} else {
  await measure(Deno.args);
}

// --- the driver ------------------------------------------------------------

async function measure(args: string[]): Promise<void> {
  const option = (name: string, fallback: number): number => {
    const at = args.indexOf(name);
    return at === -1 ? fallback : Number(args[at + 1]);
  };
  const runs = option("--runs", 3);
  const connections = option("--connections", 1000);
  const bytes = option("--bytes", MiB);
  const idle = option("--idle", 30);
  const probe = args.includes("--probe");
  console.log(
    `deno ${Deno.version.deno}; ${connections} clients × ${
      mib(bytes)
    } MiB, never reading; server: ${
      probe
        ? "this script's probe Worker (gc() before each sample)"
        : "deno task serve"
    }; budget ${mib(DEFAULT_BUFFER_BUDGET)} MiB`,
  );
  console.log("growth of the server's RSS over its RSS at start, MiB:");
  for (let run = 1; run <= runs; run++) {
    await using server = startServer(probe);
    const port = await server.port;
    const base = await server.sample();
    const clients = await flood(port, connections, bytes);
    const stalled = await server.sample();
    console.log(
      `run ${run}: at start ${mib(base.rss)}; clients wrote ${
        mib(clients.written)
      }, the server had read ${mib(clients.read)} when it stopped, ${
        clients.seconds.toFixed(1)
      } s in`,
    );
    console.log(
      `  stalled:       ${growth(stalled, base, connections)}; peak +${
        mib(stalled.peak - base.rss)
      }`,
    );
    console.log(`    ${describe(stalled, base)}`);
    if (idle > 0) {
      await new Promise((resolve) => setTimeout(resolve, idle * 1000));
      const settled = await server.sample();
      console.log(
        `  after ${idle} s idle: ${growth(settled, base, connections)}`,
      );
      console.log(`    ${describe(settled, base)}`);
    }
    for (const conn of clients.conns) conn.close();
    await clients.writers;
  }
}

/** The growth, and what it is beyond the budget per connection. */
function growth(sample: Sample, base: Sample, connections: number): string {
  const bytes = sample.rss - base.rss;
  const perConnection = (bytes - DEFAULT_BUFFER_BUDGET) / 1024 / connections;
  return `+${mib(bytes)} = budget + ${
    perConnection.toFixed(1)
  } KiB × ${connections}`;
}

interface Sample {
  rss: number;
  peak: number;
  smaps: Map<string, number>;
  mappings: number;
  worker?: WorkerMemory;
}

/** Where the growth is: by kind of mapping, and in the Worker's V8 heap. */
function describe(sample: Sample, base: Sample): string {
  const parts = [...sample.smaps].map(([kind, kb]) =>
    `${kind} ${signed(kb - (base.smaps.get(kind) ?? 0))}`
  );
  parts.push(`mappings ${sample.mappings}`);
  const worker = sample.worker;
  if (worker !== undefined) {
    const usage = (u: Deno.MemoryUsage): string =>
      `heapTotal ${mib(u.heapTotal)} heapUsed ${mib(u.heapUsed)} external ${
        mib(u.external)
      }`;
    parts.push(`| worker ${usage(worker.before)}`);
    if (worker.afterGc !== undefined) {
      parts.push(`after gc(): ${usage(worker.afterGc)}`);
    }
    parts.push(`budget in use ${mib(worker.bufferBytes)}`);
  }
  return parts.join(", ");
}

/** kB as a signed MiB figure. */
function signed(kb: number): string {
  return `${kb < 0 ? "" : "+"}${mib(kb * 1024)}`;
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

interface Server extends AsyncDisposable {
  pid: number;
  port: Promise<number>;
  sample(): Promise<Sample>;
}

function startServer(probe: boolean): Server {
  const config = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  );
  // `deno task serve`'s own command line, so that the flags stay in step.
  const [, ...serve] = (config.tasks.serve as string).split(" ");
  const args = probe
    ? [
      ...serve.slice(0, -1).map((arg) =>
        arg.startsWith("--v8-flags=") ? `${arg},--expose-gc` : arg
      ).map((arg) => arg.startsWith("--allow-read=") ? `${arg},bench` : arg),
      "experiments/never_reading_rss.ts",
      "--probe-server",
    ]
    : [...serve, "--host", "127.0.0.1", "--port", "0", "--quiet"];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("../", import.meta.url),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream())
    .pipeThrough(lineSplitter()).getReader();
  const stdin = child.stdin.getWriter();
  const next = async (): Promise<string> => {
    const { value, done } = await lines.read();
    if (done) throw new Error("The server ended early");
    return value;
  };
  const port = next().then((line) => {
    const match = /:(\d+)$/.exec(line);
    if (match === null) throw new Error(`Unexpected line "${line}"`);
    return Number(match[1]);
  });
  return {
    pid: child.pid,
    port,
    async sample(): Promise<Sample> {
      await port;
      const sample: Sample = {
        ...residentBytes(child.pid),
        smaps: smaps(child.pid),
        mappings: mappings(child.pid),
      };
      if (probe) {
        await stdin.write(new TextEncoder().encode("sample\n"));
        sample.worker = JSON.parse(await next());
      }
      return sample;
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await stdin.close().catch(() => {});
      child.kill("SIGTERM");
      await child.status;
      await lines.cancel().catch(() => {});
    },
  };
}

function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(text, controller): void {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) controller.enqueue(part);
    },
  });
}

/** VmRSS and VmHWM (the peak) from /proc/PID/status, in bytes. */
function residentBytes(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (match === null) throw new Error(`No ${name} in /proc/PID/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/**
 * Resident kB by kind of mapping. A glibc thread arena is a 64 MiB-aligned
 * heap: an rw-p mapping followed by the ---p rest of its 64 MiB.
 */
function smaps(pid: number): Map<string, number> {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps`);
  const kinds = new Map<string, number>([
    ["[heap]", 0],
    ["arenas", 0],
    ["other anon", 0],
    ["files", 0],
  ]);
  const blocks = text.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  for (const [i, block] of blocks.entries()) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/m
      .exec(block);
    const rss = /^Rss:\s+(\d+) kB$/m.exec(block);
    if (header === null || rss === null) continue;
    const start = BigInt(`0x${header[1]}`);
    const path = header[4] ?? "";
    const kind = path === "[heap]"
      ? "[heap]"
      : path.startsWith("/")
      ? "files"
      : header[3] === "rw-p" && start % BigInt(64 * MiB) === 0n &&
          isArena(block, blocks[i + 1] ?? "")
      ? "arenas"
      : "other anon";
    kinds.set(kind, (kinds.get(kind) ?? 0) + Number(rss[1]));
  }
  return kinds;
}

/** The process's memory mappings (Linux allows 65,530 by default). */
function mappings(pid: number): number {
  return Deno.readTextFileSync(`/proc/${pid}/maps`).split("\n").length - 1;
}

function isArena(block: string, after: string): boolean {
  const [first, second] = [block, after].map((b) =>
    /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(b)
  );
  if (!first || !second) return false;
  const start = BigInt(`0x${first[1]}`);
  if (BigInt(`0x${first[2]}`) - start === BigInt(64 * MiB)) return true;
  return second[3] === "---p" && BigInt(`0x${second[1]}`) ===
      BigInt(`0x${first[2]}`) &&
    BigInt(`0x${second[2]}`) - start === BigInt(64 * MiB);
}

/**
 * Opens `count` connections that each write `bytes` and never read, and
 * waits until the server has (almost) stopped reading: less than
 * `STILL_BYTES` in `STILL_MS`. It never quite stops: as the clients'
 * receive queues fill, the kernel compacts them and lets a few more bytes
 * through now and then.
 */
async function flood(
  port: number,
  count: number,
  bytes: number,
): Promise<
  {
    conns: Deno.TcpConn[];
    /** Settles once every write has ended (closing the conns ends them). */
    writers: Promise<void>;
    written: number;
    read: number;
    seconds: number;
  }
> {
  const started = performance.now();
  const deadline = started + RUN_DEADLINE_MS;
  const payload = new Uint8Array(bytes).fill(0x61);
  const conns: Deno.TcpConn[] = [];
  let written = 0;
  const writers: Promise<void>[] = [];
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    writers.push(
      (async () => {
        let offset = 0;
        while (offset < bytes) {
          const n = await conn.write(payload.subarray(offset));
          offset += n;
          written += n;
        }
      })().catch(() => {}),
    );
  }
  const history: { read: number; at: number }[] = [];
  let still = false;
  while (!still && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const { clientUnsent, serverUnread } = socketQueues(port);
    const now = { read: written - clientUnsent - serverUnread, at: 0 };
    now.at = performance.now();
    history.push(now);
    const windowStart = history.find((h) => now.at - h.at <= STILL_MS);
    const watched = now.at - (history[0]?.at ?? now.at);
    still = watched >= STILL_MS &&
      now.read - (windowStart?.read ?? 0) < STILL_BYTES;
  }
  if (!still) console.log("  (the server still reads at the deadline)");
  const last = history.at(-1) ?? { read: 0, at: started };
  return {
    conns,
    writers: Promise.all(writers).then(() => {}),
    written,
    read: last.read,
    seconds: (last.at - started) / 1000,
  };
}

/**
 * From /proc/net/tcp: bytes the clients' sockets (remote port `port`) have
 * not sent yet, and bytes the server's sockets (local port `port`) hold
 * unread.
 */
function socketQueues(
  port: number,
): { clientUnsent: number; serverUnread: number } {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let clientUnsent = 0;
  let serverUnread = 0;
  for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n")) {
    const [, local, remote, , queues] = line.trim().split(/\s+/);
    const [tx, rx] = (queues ?? "").split(":").map((n) => parseInt(n, 16));
    if (tx === undefined || rx === undefined) continue;
    if (local?.endsWith(hex)) serverUnread += rx;
    else if (remote?.endsWith(hex)) clientUnsent += tx;
  }
  return { clientUnsent, serverUnread };
}

// --- the probe: the same service in a Worker that reports its memory --------

async function probeServer(): Promise<void> {
  const worker = new Worker(import.meta.url, {
    type: "module",
    name: PROBE_WORKER,
  });
  const replies: ((line: string) => void)[] = [];
  worker.onmessage = (event: MessageEvent<string>) => {
    const reply = replies.shift();
    if (reply !== undefined) reply(event.data);
  };
  const ask = (command: string): Promise<string> =>
    new Promise((resolve) => {
      replies.push(resolve);
      worker.postMessage(command);
    });
  const write = (line: string): number =>
    Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
  write(await ask("start"));
  const commands = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
    .pipeThrough(lineSplitter());
  for await (const command of commands) write(await ask(command));
  worker.terminate();
}

function probeWorker(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<string>) => void) | null;
    postMessage(message: string): void;
    gc?: () => void;
  };
  const budget = new BufferBudget(DEFAULT_BUFFER_BUDGET);
  scope.onmessage = async (event) => {
    if (event.data === "start") {
      const service = await startEchoService({
        endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
        tcp: true,
        udp: false,
        reusePort: false,
        limits: { maxConnections: Infinity },
        budget: { limit: budget.limit, counters: budget.shared },
        metrics: new ServerMetrics().shared,
        log: { quiet: true },
      });
      const addr = service.addresses.stream as Deno.NetAddr;
      scope.postMessage(`listening on 127.0.0.1:${addr.port}`);
      return;
    }
    const memory: WorkerMemory = {
      before: Deno.memoryUsage(),
      bufferBytes: budget.inUse,
    };
    if (scope.gc !== undefined) {
      scope.gc();
      memory.afterGc = Deno.memoryUsage();
    }
    scope.postMessage(JSON.stringify(memory));
  };
}
