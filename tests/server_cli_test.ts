import assert from "node:assert/strict";
import { REPEATED_SIGNAL_MS, VERSION } from "../lib/cli/mod.ts";
import {
  assertNotServed,
  bytesEqual,
  connect,
  FILE_PERMISSIONS,
  LineCollector,
  patternChunk,
  randomBytes,
  readToEnd,
  roundTrip,
  RssWatch,
  runServer,
  SERVER_SCRIPT,
  startServer,
} from "./_helpers.ts";

const MiB = 1024 * 1024;

async function ping(conn: Deno.Conn): Promise<void> {
  await conn.write(new Uint8Array([42]));
  const echo = new Uint8Array(1);
  assert.equal(await conn.read(echo), 1);
  assert.equal(echo[0], 42);
}

Deno.test("server prints 'listening on HOST:PORT' with the bound port first on stdout", async () => {
  await using server = await startServer();
  assert.match(server.stdout.lines[0] ?? "", /^listening on 127\.0\.0\.1:\d+$/);
  assert.notEqual(server.port, 0);
  using conn = await connect(server.port);
  await ping(conn);
});

Deno.test("server prints an IPv6 listening address in brackets", async () => {
  await using server = await startServer(["--host", "[::1]"]);
  assert.equal(server.stdout.lines[0], `listening on [::1]:${server.port}`);
  using conn = await Deno.connect({ hostname: "::1", port: server.port });
  await ping(conn);
});

for (const value of ["-1", "65536", "abc", "80.5", ""]) {
  Deno.test(`server refuses --port "${value}" with one line and exit code 2`, async () => {
    const result = await runServer(["--port", value]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout.length, 0);
    assert.equal(
      result.stderr,
      `error: --port: Invalid port "${value}": expected an integer from 0 to 65535: see --help\n`,
    );
  });
}

Deno.test("server refuses an unknown flag and a bad duration, naming them, exit code 2", async () => {
  const unknown = await runServer(["--bogus"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, `error: Unknown flag "--bogus": see --help\n`);
  const duration = await runServer(["--idle-timeout", "5"]);
  assert.equal(duration.code, 2);
  assert.match(
    duration.stderr,
    /^error: --idle-timeout: Invalid duration "5": .*see --help\n$/,
  );
});

Deno.test("server --help and --version print to stdout and exit 0", async () => {
  const help = await runServer(["--help"]);
  assert.equal(help.code, 0);
  assert.match(
    new TextDecoder().decode(help.stdout),
    /^echo-server: .*\n\nUsage: echo-server/,
  );
  const version = await runServer(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(
    new TextDecoder().decode(version.stdout),
    `echo-server ${VERSION}\n`,
  );
});

Deno.test("server reports a port in use with exit code 4", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const result = await runServer(["--port", String(taken.addr.port)]);
  assert.equal(result.code, 4);
  assert.equal(
    result.stderr,
    `error: Address "127.0.0.1:${taken.addr.port}" is already in use: stop the other program or pick another --port\n`,
  );
});

Deno.test("server reports an unknown host with exit code 3", async () => {
  const result = await runServer(["--host", "no-such-host.invalid"]);
  assert.equal(result.code, 3);
  assert.equal(
    result.stderr,
    `error: Unknown host "no-such-host.invalid": name lookup failed\n`,
  );
});

Deno.test("server reports missing permission with exit code 5 and no stack trace", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1:1", SERVER_SCRIPT, "--port", "2"],
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 5);
  assert.match(
    stderr,
    /^error: No network permission for "127\.0\.0\.1:2": run with --allow-net/,
  );
  assert.equal(stderr.split("\n").length, 2, "exactly one line");
});

// Deno lets only --allow-all read /proc/sys directly; cat needs just --allow-run.
const unprivilegedPortStart = Number(
  new TextDecoder().decode(
    new Deno.Command("cat", {
      args: ["/proc/sys/net/ipv4/ip_unprivileged_port_start"],
    })
      .outputSync().stdout,
  ).trim(),
);

Deno.test({
  name:
    "server reports a privileged port with exit code 5 when run without privileges",
  // Some containers let everyone bind any port; then there is nothing to refuse.
  ignore: Deno.build.os !== "linux" || unprivilegedPortStart === 0,
  async fn(): Promise<void> {
    const denoDir = Deno.makeTempDirSync({ prefix: "echo-unprivileged-" });
    Deno.chmodSync(denoDir, 0o777);
    // As root, drop to nobody first: root may bind any port.
    const dropPrivileges = Deno.uid() === 0
      ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
      : [];
    const port = String(unprivilegedPortStart - 1);
    const [program, ...args] = [
      ...dropPrivileges,
      Deno.execPath(),
      "run",
      "--allow-net",
      SERVER_SCRIPT,
      "--port",
      port,
    ];
    const output = await new Deno.Command(program as string, {
      args,
      env: { DENO_DIR: denoDir },
      stdin: "null",
    }).output();
    Deno.removeSync(denoDir, { recursive: true });
    assert.equal(output.code, 5);
    assert.equal(
      new TextDecoder().decode(output.stderr),
      `error: Permission denied for "127.0.0.1:${port}": ports below 1024 need privileges; pick a higher --port\n`,
    );
  },
});

Deno.test("server echoes 64 MiB unchanged after half-close and logs the connection", async () => {
  await using server = await startServer();
  const data = randomBytes(64 * MiB);
  using conn = await connect(server.port);
  assert.ok(bytesEqual(await roundTrip(conn, data), data));
  const close = await server.stderr.waitFor(/ close /);
  assert.match(
    close,
    / conn=1 peer=127\.0\.0\.1:\d+ reason=eof bytes_echoed=67108864 duration_ms=\d+$/,
  );
  assert.match(
    server.stderr.lines.find((line) => / open /.test(line)) ?? "",
    / open conn=1 peer=127\.0\.0\.1:\d+ active=1$/,
  );
});

Deno.test("server memory stays bounded while a peer sends 256 MiB without reading", async () => {
  await using server = await startServer(["--quiet"]);
  using memory = new RssWatch(server.process.pid);
  const baseline = memory.peak;
  using conn = await connect(server.port);
  const total = 256 * MiB;
  const chunkSize = MiB;
  let sent = 0;
  const writing = (async () => {
    for (let offset = 0; offset < total; offset += chunkSize) {
      const chunk = patternChunk(9, offset, chunkSize);
      let written = 0;
      while (written < chunk.length) {
        written += await conn.write(chunk.subarray(written));
      }
      sent += chunk.length;
    }
    await conn.closeWrite();
  })();
  writing.catch(() => {}); // a failure surfaces at `await writing`, not as an uncaught rejection

  // Phase 1: read nothing. Backpressure must stall the writer after the
  // socket buffers fill; a server that kept reading would swallow it all.
  let last = -1;
  while (sent !== last) {
    last = sent;
    await new Promise((resolve) => setTimeout(resolve, 300)); // stall detection needs a time window
  }
  assert.ok(sent < 64 * MiB, `writer stalled after ${sent} bytes`);
  memory.sample();
  const stalledGrowth = memory.peak - baseline;

  // Phase 2: read everything back while the writer finishes; verify it all.
  let received = 0;
  let intact = true;
  const buffer = new Uint8Array(MiB);
  while (true) {
    const n = await conn.read(
      buffer.subarray(0, MiB - (received % 4 === 0 ? 0 : 4 - received % 4)),
    );
    if (n === null) break;
    const skew = received % 4;
    const expected = patternChunk(9, received - skew, skew + n);
    for (let i = 0; i < n && intact; i++) {
      intact = buffer[i] === expected[skew + i];
    }
    received += n;
  }
  await writing;
  memory.sample();
  assert.equal(received, total);
  assert.ok(intact, "every echoed byte matches");
  const growth = memory.peak - baseline;
  assert.ok(
    stalledGrowth < 32 * MiB,
    `RSS grew ${stalledGrowth} bytes while the peer did not read`,
  );
  assert.ok(
    growth < 64 * MiB,
    `RSS grew ${growth} bytes over a 256 MiB transfer`,
  );
});

Deno.test("SIGTERM during a transfer lets it complete, refuses new clients, exits 0", async () => {
  await using server = await startServer(["--drain-timeout", "30s"]);
  using conn = await connect(server.port);
  await ping(conn);
  server.process.kill("SIGTERM");
  await server.stderr.waitFor(
    / shutdown signal=SIGTERM drain_timeout_ms=30000$/,
  );
  await assertNotServed(server.port);

  const data = randomBytes(32 * MiB);
  assert.ok(bytesEqual(await roundTrip(conn, data), data));
  const status = await server.process.status;
  assert.equal(status.code, 0);
  await server.stderr.done;
  assert.match(
    server.stderr.lines.join("\n"),
    / close conn=1 .*reason=eof bytes_echoed=33554433/,
  );
  assert.match(
    server.stderr.lines.at(-1) ?? "",
    / stopped connections=1 refused=0 bytes_echoed=33554433 accept_errors=0 buffer_peak_bytes=\d+ buffer_budget_bytes=67108864 log_lines_dropped=0$/,
  );
});

Deno.test("SIGINT closes connections still open at the drain deadline with reason shutdown", async () => {
  await using server = await startServer(["--drain-timeout", "100ms"]);
  using conn = await connect(server.port);
  await ping(conn);
  server.process.kill("SIGINT");
  assert.equal(await conn.read(new Uint8Array(1)), null);
  assert.equal((await server.process.status).code, 0);
  await server.stderr.done;
  assert.equal(server.stderr.count(/ close conn=1 .*reason=shutdown/), 1);
});

Deno.test("a second signal during the drain exits at once with 128 + signal", async () => {
  await using server = await startServer(["--drain-timeout", "10m"]);
  using conn = await connect(server.port);
  await ping(conn);
  server.process.kill("SIGTERM");
  await server.stderr.waitFor(/ shutdown /);
  // A second request is one that comes later than a relayed repeat could.
  await new Promise((resolve) => setTimeout(resolve, REPEATED_SIGNAL_MS));
  server.process.kill("SIGTERM");
  assert.equal((await server.process.status).code, 143);
});

Deno.test("Ctrl-C on deno task serve drains: the terminal and deno task both deliver it", async () => {
  // A terminal's Ctrl-C signals the whole foreground process group, and
  // `deno task` relays it to the server as well: one request, two signals.
  const task = new Deno.Command("setsid", {
    args: [Deno.execPath(), "task", "serve", "--port", "0"],
    cwd: new URL("..", import.meta.url),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector(task.stdout);
  const stderr = new LineCollector(task.stderr);
  const listening = await stdout.waitFor(/^listening on /);
  using conn = await connect(Number(/:(\d+)$/.exec(listening)?.[1]));
  await ping(conn);
  Deno.kill(-task.pid, "SIGINT");
  await stderr.waitFor(/ shutdown signal=SIGINT /);
  await conn.closeWrite();
  assert.equal(await conn.read(new Uint8Array(1)), null);
  assert.equal((await task.status).code, 0);
  await Promise.all([stdout.done, stderr.done]);
  assert.match(stderr.lines.at(-1) ?? "", / stopped connections=1 /);
});

Deno.test("--log-format json writes one JSON object per stderr line; --quiet drops connection lines", async () => {
  {
    await using server = await startServer(["--log-format", "json"]);
    using conn = await connect(server.port);
    await ping(conn);
    conn.close();
    const close = JSON.parse(await server.stderr.waitFor(/"event":"close"/));
    assert.equal(close.bytes_echoed, 1);
    assert.equal(close.reason, "eof");
    for (const line of server.stderr.lines) JSON.parse(line);
  }
  {
    await using server = await startServer(["--quiet"]);
    using conn = await connect(server.port);
    await ping(conn);
    server.process.kill("SIGTERM");
    conn.close();
    await server.process.status;
    await server.stderr.done;
    assert.equal(server.stderr.count(/ (open|close) /), 0);
    assert.equal(server.stderr.count(/ stopped connections=1 /), 1);
  }
});

Deno.test("running out of file descriptors while accepting does not stop the server", async () => {
  // Deno itself needs some 25 descriptors; 40 leaves room for about 15 clients.
  await using server = await startServer([], {
    wrapper: ["prlimit", "--nofile=40:40", "--"],
  });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 30; i++) conns.push(await connect(server.port));
    const failure = await server.stderr.waitFor(/ accept-error /);
    assert.match(failure, /Too many open files/);
    await ping(conns[0] as Deno.Conn);
    // Free descriptors: the queued connections are then accepted and served.
    for (const conn of conns.splice(0, 20)) conn.close();
    for (const conn of conns) await ping(conn);
  } finally {
    for (const conn of conns) conn.close();
  }
});

Deno.test("a client that connects and leaves at once is logged and does not disturb the server", async () => {
  await using server = await startServer();
  (await connect(server.port)).close();
  await server.stderr.waitFor(/ close conn=1 /);
  using conn = await connect(server.port);
  const data = randomBytes(MiB);
  assert.ok(bytesEqual(await roundTrip(conn, data), data));
});

Deno.test("--workers 2 serves one port from two event loops and sums their totals", async () => {
  const lib = new URL("../lib", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  await using server = await startServer(["--workers", "2"], {
    permissions: ["--allow-net", `--allow-read=${lib},${config}`],
  });
  const conns = await Promise.all(
    Array.from({ length: 40 }, () => connect(server.port)),
  );
  try {
    for (const conn of conns) await ping(conn);
  } finally {
    for (const conn of conns) conn.close();
  }
  server.process.kill("SIGTERM");
  assert.equal((await server.process.status).code, 0);
  await server.stderr.done;
  const opens = (worker: number) =>
    server.stderr.count(new RegExp(` open worker=${worker} `));
  assert.equal(opens(1) + opens(2), 40);
  // SO_REUSEPORT hashes connections across listeners: both get some
  // (all 40 on one side has probability 2^-39).
  assert.ok(
    opens(1) > 0 && opens(2) > 0,
    `worker 1: ${opens(1)}, worker 2: ${opens(2)}`,
  );
  assert.match(
    server.stderr.lines.at(-1) ?? "",
    / stopped connections=40 refused=0 bytes_echoed=40 accept_errors=0 buffer_peak_bytes=0 buffer_budget_bytes=67108864 log_lines_dropped=0$/,
  );
});

Deno.test("--workers without read permission for its module fails with one line and exit code 5", async () => {
  const result = await runServer(["--port", "0", "--workers", "2"], [
    "--allow-net",
  ]);
  assert.equal(result.code, 5);
  const ours = result.stderr.split("\n").filter((line) =>
    line.startsWith("error: Missing permission")
  );
  assert.equal(ours.length, 1);
  assert.match(ours[0] ?? "", /--workers also needs --allow-read for lib\//);
});

Deno.test("a server whose stdout is closed at once keeps serving, says so on stderr, and stops on SIGTERM", async () => {
  const directory = await Deno.makeTempDir();
  const path = `${directory}/echo.sock`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...FILE_PERMISSIONS, SERVER_SCRIPT, "--unix", path],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await child.stdout.cancel(); // the reader is gone before the first line
  const stderr = new LineCollector(child.stderr);
  try {
    assert.match(
      await stderr.waitFor(/^warning: standard output is closed/),
      /serving without printing the listening lines$/,
    );
    using conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode("still here"));
    await conn.closeWrite();
    assert.equal(
      new TextDecoder().decode(await readToEnd(conn)),
      "still here",
    );
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal((await child.status).code, 0);
  await stderr.done;
  await Deno.remove(directory, { recursive: true });
});
