import type { Endpoint } from "../lib/net/mod.ts";
/**
 * Test helpers: spawn the real entry scripts, wait for their log lines,
 * watch their memory, and make payloads that are cheap to regenerate.
 */

import assert from "node:assert/strict";
import net from "node:net";
import { Logger } from "../lib/log/mod.ts";
import {
  serveEcho,
  type ServeEchoOptions,
  type ServeSummary,
} from "../lib/server/mod.ts";

/**
 * The permissions the README's `deno run` commands and `deno task serve` /
 * `client` give: network, reading the library's own modules (its Workers
 * load them), and the one environment variable the Workers need.
 */
export const PROGRAM_PERMISSIONS = [
  "--allow-net",
  `--allow-read=${new URL("../lib", import.meta.url).pathname}`,
  "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK",
];

/**
 * {@linkcode PROGRAM_PERMISSIONS} with file access anywhere, for tests that
 * name TLS files or Unix socket paths.
 */
export const FILE_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK",
];

const config = JSON.parse(
  await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
) as { tasks: Record<string, string> };

/**
 * `deno task NAME`'s flags, between `deno run` and the script: what a
 * program run through the task may do.
 */
export function taskFlags(name: "serve" | "client"): string[] {
  const [deno, run, ...rest] = (config.tasks[name] ?? "").split(" ");
  assert.deepEqual([deno, run], ["deno", "run"]);
  return rest.slice(0, -1);
}

/** Path of the server entry script. */
export const SERVER_SCRIPT = new URL("../server.ts", import.meta.url).pathname;
/** Path of the client entry script. */
export const CLIENT_SCRIPT = new URL("../client.ts", import.meta.url).pathname;

const decoder = new TextDecoder();

/** Collects a child's output lines and lets tests wait for one. */
export class LineCollector {
  readonly lines: string[] = [];
  readonly done: Promise<void>;
  #waiters: {
    pattern: RegExp;
    from: number;
    resolve: (line: string) => void;
  }[] = [];

  /** Reads lines from `stream`, or, without one, takes them from `add`. */
  constructor(stream?: ReadableStream<Uint8Array>) {
    this.done = stream === undefined
      ? Promise.resolve()
      : this.#collect(stream);
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    for await (const chunk of stream) {
      const parts = (partial + decoder.decode(chunk, { stream: true })).split(
        "\n",
      );
      partial = parts.pop() ?? "";
      for (const line of parts) this.add(line);
    }
    if (partial !== "") this.add(partial);
    for (const waiter of this.#waiters) waiter.resolve("");
    this.#waiters = [];
  }

  /** Records one line (without its newline) and wakes its waiters. */
  add(line: string): void {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.pattern.test(line)) return true;
      waiter.resolve(line);
      return false;
    });
  }

  /**
   * Resolves with the first line matching `pattern` at index `from` or
   * later (already seen or still to come); with "" if output ends first.
   */
  waitFor(pattern: RegExp, from = 0): Promise<string> {
    const seen = this.lines.slice(from).find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) =>
      this.#waiters.push({ pattern, from, resolve })
    );
  }

  /** How many lines match `pattern` so far. */
  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }
}

/** A JSON-format logger whose lines land in a {@linkcode LineCollector}. */
export function memoryLogger(): { logger: Logger; log: LineCollector } {
  const log = new LineCollector();
  return {
    log,
    logger: new Logger({
      format: "json",
      write: (line) => log.add(line.trimEnd()),
    }),
  };
}

/**
 * Our echo server, in process, on a free loopback port; its log lines
 * (JSON) land in `log`. Stopped and drained on dispose.
 */
export interface TestServer extends AsyncDisposable {
  port: number;
  log: LineCollector;
  stop: AbortController;
  done: Promise<ServeSummary>;
}

export function startEchoServer(options: ServeEchoOptions = {}): TestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { logger, log } = memoryLogger();
  const stop = new AbortController();
  const done = serveEcho(listener, { logger, signal: stop.signal, ...options });
  return {
    port: listener.addr.port,
    log,
    stop,
    done,
    async [Symbol.asyncDispose](): Promise<void> {
      stop.abort();
      await done;
    },
  };
}

/** A spawned `server.ts`; killed on dispose if still running. */
export interface ServerProcess extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** The bound TCP port; 0 for a Unix socket. */
  port: number;
  /** The address from the listening line. */
  address: string;
  stdout: LineCollector;
  stderr: LineCollector;
}

/** Options for {@linkcode startServer}. */
export interface StartServerOptions {
  /** A command the server runs under, e.g. `["prlimit", "--nofile=64"]`. */
  wrapper?: string[];
  /** Deno permission flags. @default {PROGRAM_PERMISSIONS} */
  permissions?: string[];
  /** Where to listen. @default {["--port", "0"]} */
  address?: string[];
  /** Environment variables to add to ours. */
  env?: Record<string, string>;
}

/** Spawns `server.ts --port 0 ...args` and waits for its listening line. */
export async function startServer(
  args: string[] = [],
  options: StartServerOptions = {},
): Promise<ServerProcess> {
  const command = [
    Deno.execPath(),
    "run",
    ...(options.permissions ?? PROGRAM_PERMISSIONS),
    SERVER_SCRIPT,
    ...(options.address ?? ["--port", "0"]),
    ...args,
  ];
  const [program, ...rest] = [...(options.wrapper ?? []), ...command];
  const process = new Deno.Command(program as string, {
    args: rest,
    ...(options.env !== undefined && { env: options.env }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector(process.stdout);
  const stderr = new LineCollector(process.stderr);
  const listening = await stdout.waitFor(/^listening on /);
  if (listening === "") {
    await process.status;
    await Promise.all([stdout.done, stderr.done]);
    throw new Error(`server did not start: ${stderr.lines.join("\n")}`);
  }
  return {
    process,
    port: Number(/:(\d+)$/.exec(listening)?.[1] ?? 0),
    address: listening.slice("listening on ".length),
    stdout,
    stderr,
    async [Symbol.asyncDispose](): Promise<void> {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await process.status;
      await Promise.all([stdout.done, stderr.done]);
    },
  };
}

/** What a finished command printed and returned. */
export interface CommandResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs `deno run <permissions> <script> ...args`, with optional stdin
 * bytes; permissions default to {@linkcode PROGRAM_PERMISSIONS}.
 */
export async function runScript(
  script: string,
  args: string[],
  stdin?: Uint8Array,
  permissions: string[] = PROGRAM_PERMISSIONS,
): Promise<CommandResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, script, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Feed stdin while output is read: a child may stop reading early (it
  // found a mismatch), which must not fail the test's write.
  const feeding = stdin === undefined ? Promise.resolve() : (async () => {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(stdin);
      await writer.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
  })();
  const output = await child.output();
  await feeding;
  return {
    code: output.code,
    stdout: output.stdout,
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `client.ts` with `args`. */
export function runClient(
  args: string[],
  stdin?: Uint8Array,
  permissions?: string[],
): Promise<CommandResult> {
  return runScript(CLIENT_SCRIPT, args, stdin, permissions);
}

/** Runs `server.ts` with `args` (for errors at start-up: it exits at once). */
export function runServer(
  args: string[],
  permissions?: string[],
): Promise<CommandResult> {
  return runScript(SERVER_SCRIPT, args, undefined, permissions);
}

/** `n` random bytes (crypto quality, so no pattern can hide a bug). */
export function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let offset = 0; offset < n; offset += 65_536) {
    crypto.getRandomValues(
      bytes.subarray(offset, Math.min(offset + 65_536, n)),
    );
  }
  return bytes;
}

/**
 * A deterministic pseudo-random byte stream: byte `i` depends only on
 * `seed` and `i`, so a verifier can regenerate it instead of storing it.
 */
export function patternChunk(
  seed: number,
  offset: number,
  length: number,
): Uint8Array {
  // Whole 4-byte words keyed by word index; callers use 4-aligned offsets.
  assert(offset % 4 === 0, "pattern offsets are 4-byte aligned");
  const words = new Uint32Array(Math.ceil(length / 4));
  let index = offset / 4;
  for (let i = 0; i < words.length; i++, index++) {
    let x = (index ^ seed) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
    x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
    words[i] = (x ^ (x >>> 16)) >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/** Resident memory of process `pid`, in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  assert(match !== null, "VmRSS in /proc status");
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS every `intervalMs` until disposed; keeps the peak. */
export class RssWatch implements Disposable {
  peak = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly pid: number, intervalMs = 20) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    try {
      this.peak = Math.max(this.peak, rssBytes(this.pid));
    } catch {
      // The process has exited; its last sample stands.
    }
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}

/** Connects to `127.0.0.1:port`. */
/** The TCP endpoint for `port` on 127.0.0.1. */
export function loopback(port: number): Endpoint {
  return { transport: "tcp", hostname: "127.0.0.1", port };
}

export function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Reads from `conn` until EOF; returns everything read. */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(65_536);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/**
 * Sends `data`, half-closes, and reads the echo to EOF, concurrently (a
 * large payload would deadlock if written fully before reading).
 */
export async function roundTrip(
  conn: Deno.Conn,
  data: Uint8Array,
): Promise<Uint8Array> {
  const sending = (async () => {
    let written = 0;
    while (written < data.length) {
      written += await conn.write(data.subarray(written));
    }
    await conn.closeWrite();
  })();
  const [echo] = await Promise.all([readToEnd(conn), sending]);
  return echo;
}

/** The library's comparison, for the tests that import it from here. */
export { bytesEqual } from "../lib/net/mod.ts";

/** A loopback server running `handle` on each connection; for fakes. */
export interface FakeServer extends AsyncDisposable {
  port: number;
}

/**
 * Starts a deliberately misbehaving server: `handle` decides what each
 * connection gets. The connection is closed after `handle` returns.
 */
export function startFakeServer(
  handle: (conn: Deno.Conn) => Promise<void>,
): FakeServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handlers: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      handlers.push((async () => {
        using _ = conn;
        await handle(conn).catch(() => {});
      })());
    }
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose](): Promise<void> {
      listener.close();
      await accepting;
      await Promise.all(handlers);
    },
  };
}

/** A fake echo server that flips one bit of the byte at `offset`. */
export function startCorruptingServer(offset: number): FakeServer {
  return startFakeServer(async (conn) => {
    const buffer = new Uint8Array(65_536);
    let seen = 0;
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      if (offset >= seen && offset < seen + n) buffer[offset - seen]! ^= 0x01;
      seen += n;
      let written = 0;
      while (written < n) {
        written += await conn.write(buffer.subarray(written, n));
      }
    }
    await conn.closeWrite();
  });
}

/** A fake server that accepts and then never sends a byte, until the peer leaves. */
export function startSilentServer(): FakeServer {
  return startFakeServer(async (conn) => {
    await readToEnd(conn);
  });
}

/**
 * Asserts that a new client gets no service on `port`: the connect fails,
 * or the connection ends (EOF or reset) without echoing a byte. (A connect
 * can complete in the kernel's backlog while the listener is closing.)
 */
export async function assertNotServed(port: number): Promise<void> {
  let conn: Deno.Conn;
  try {
    conn = await connect(port);
  } catch {
    return;
  }
  using _ = conn;
  try {
    await conn.write(new Uint8Array([1]));
    assert.equal(
      await conn.read(new Uint8Array(1)),
      null,
      "no echo after shutdown",
    );
  } catch (error) {
    assert.ok(
      error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe,
      String(error),
    );
  }
}

/**
 * Sends `data` from the local address `localAddress` (any of 127.0.0.0/8),
 * half-closes, and resolves with everything received until the server
 * closes. `Deno.connect` cannot choose a source address; node:net can.
 */
export function echoFrom(
  port: number,
  localAddress: string,
  data: Uint8Array,
): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    const socket = net.connect(
      { port, host: "127.0.0.1", localAddress },
      () => socket.end(data),
    );
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const chunk of chunks) {
        all.set(chunk, at);
        at += chunk.length;
      }
      resolve(all);
    });
  });
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Fails, naming the Debian package, unless `command` runs. */
export async function requireTool(
  command: string,
  args: string[],
  debianPackage: string,
): Promise<void> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    if (success) return;
  } catch {
    // Not installed: fall through.
  }
  assert.fail(
    `${command} is needed for this test: install the Debian package ${debianPackage} (apt-get install ${debianPackage}; .ci/run does)`,
  );
}

/** A port that was free a moment ago (for programs that take no port 0). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * Resolves once something accepts on `port` (a third-party program that
 * prints nothing when it is up, such as HAProxy); fails after 5 s.
 */
export async function untilAccepting(port: number): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (error) {
      if (attempt === 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/**
 * HAProxy in TCP mode with `sections` (frontends and backends) after the
 * common settings, running until disposed; resolves once every port in
 * `ports` accepts. Fails, naming the package, without HAProxy.
 */
export async function startHaproxy(
  sections: string,
  ports: number[],
): Promise<AsyncDisposable> {
  await requireTool("haproxy", ["-v"], "haproxy");
  const dir = await Deno.makeTempDir();
  const config = `${dir}/haproxy.cfg`;
  await Deno.writeTextFile(
    config,
    `global
  maxconn 64
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
${sections}`,
  );
  const haproxy = new Deno.Command("haproxy", {
    args: ["-f", config, "-db"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    haproxy.kill("SIGTERM");
    await haproxy.status;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    for (const port of ports) await untilAccepting(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { [Symbol.asyncDispose]: stop };
}
