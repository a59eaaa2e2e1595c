/**
 * Fault injection on the wire: each fault flag against a real server
 * process, timings asserted with generous bounds, and what arrives always
 * a prefix of what was sent.
 */

import assert from "node:assert/strict";
import {
  bytesEqual,
  CLIENT_SCRIPT,
  connect,
  FILE_PERMISSIONS,
  patternChunk,
  readToEnd,
  roundTrip,
  runScript,
  startServer,
  withTempDir,
} from "./_helpers.ts";

const KiB = 1024;
const encoder = new TextEncoder();

/** One round trip of `bytes` on `conn`, timed in ms. */
async function timedEcho(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<{ echo: Uint8Array; ms: number }> {
  const started = performance.now();
  await conn.write(bytes);
  const echo = new Uint8Array(bytes.length);
  let filled = 0;
  while (filled < bytes.length) {
    const n = await conn.read(echo.subarray(filled));
    if (n === null) throw new Error(`EOF after ${filled} bytes`);
    filled += n;
  }
  return { echo, ms: performance.now() - started };
}

/** Sends `data` while reading to the end; resolves with what arrived. */
async function sendAndRead(
  conn: Deno.Conn,
  data: Uint8Array,
): Promise<{ received: Uint8Array; error?: unknown }> {
  const writing = conn.write(data).catch(() => 0);
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * KiB);
  let error: unknown;
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } catch (caught) {
    error = caught;
  }
  await writing;
  const received = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    received.set(chunk, at);
    at += chunk.length;
  }
  return { received, ...(error !== undefined && { error }) };
}

/**
 * TCP resets this host has sent (Linux's `OutRsts`), read by `cat`: Deno
 * lets a program read /proc only with --allow-all.
 */
async function outgoingResets(): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: ["/proc/net/snmp"],
    stdout: "piped",
  }).output();
  const snmp = new TextDecoder().decode(stdout);
  const [names, values] = snmp.split("\n").filter((line) =>
    line.startsWith("Tcp:")
  ).map((line) => line.split(/\s+/));
  return Number(values?.[names?.indexOf("OutRsts") ?? -1]);
}

Deno.test("--delay 200ms: every round trip takes at least 190 ms, bytes intact", async () => {
  await using server = await startServer(["--delay", "200ms"]);
  using conn = await connect(server.port);
  for (const size of [1, 1000]) {
    const sent = patternChunk(size, 0, size);
    const { echo, ms } = await timedEcho(conn, sent);
    assert.ok(ms >= 190, `round trip ${ms.toFixed(1)} ms`);
    assert.ok(bytesEqual(echo, sent));
  }
  assert.match(
    await server.stderr.waitFor(/ open conn=1 /),
    / faults=delay$/,
  );
});

Deno.test("--jitter 100ms --fault-seed 1: round trips spread over 0-100 ms", async () => {
  await using server = await startServer([
    "--jitter",
    "100ms",
    "--fault-seed",
    "1",
  ]);
  using conn = await connect(server.port);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    times.push((await timedEcho(conn, Uint8Array.of(i))).ms);
  }
  assert.ok(Math.max(...times) <= 150, `slowest ${Math.max(...times)} ms`);
  assert.ok(
    Math.max(...times) - Math.min(...times) >= 20,
    `spread ${times.map((t) => t.toFixed(0)).join(", ")} ms`,
  );
});

Deno.test("--throttle 256KiB: 512 KiB take 1.5 to 3 s, byte-exact", async () => {
  await using server = await startServer(["--throttle", "256KiB"]);
  using conn = await connect(server.port);
  const sent = patternChunk(7, 0, 512 * KiB);
  const started = performance.now();
  const echo = await roundTrip(conn, sent);
  const seconds = (performance.now() - started) / 1000;
  assert.ok(bytesEqual(echo, sent));
  assert.ok(seconds >= 1.5 && seconds <= 3, `${seconds.toFixed(2)} s`);
});

Deno.test("--chunk 100 --chunk-delay 50ms: 1000 B arrive in pieces of at most 100 B, 50 ms apart", async () => {
  await using server = await startServer([
    "--chunk",
    "100",
    "--chunk-delay",
    "50ms",
  ]);
  using conn = await connect(server.port);
  const sent = patternChunk(3, 0, 1000);
  await conn.write(sent);
  const pieces: number[] = [];
  const started = performance.now();
  const buffer = new Uint8Array(2000);
  let filled = 0;
  while (filled < sent.length) {
    const n = await conn.read(buffer.subarray(filled));
    assert.ok(n !== null);
    pieces.push(n);
    filled += n;
  }
  const ms = performance.now() - started;
  assert.ok(bytesEqual(buffer.subarray(0, filled), sent));
  assert.ok(pieces.every((n) => n <= 100), `pieces ${pieces.join(", ")}`);
  assert.ok(ms >= 9 * 50 - 10, `${ms.toFixed(0)} ms`);
});

Deno.test("--close-after 1000: exactly 1000 bytes, then EOF (a FIN, not a reset)", async () => {
  await using server = await startServer(["--close-after", "1000"]);
  using conn = await connect(server.port);
  const sent = patternChunk(1, 0, 4000);
  const { received, error } = await sendAndRead(conn, sent);
  assert.equal(error, undefined);
  assert.equal(received.length, 1000);
  assert.ok(bytesEqual(received, sent.subarray(0, 1000)));
  assert.match(
    await server.stderr.waitFor(/ close conn=1 /),
    / reason=fault-close bytes_echoed=1000 /,
  );
});

Deno.test("--close-after 300ms: the connection ends with EOF after about 300 ms", async () => {
  await using server = await startServer(["--close-after", "300ms"]);
  using conn = await connect(server.port);
  const started = performance.now();
  assert.equal((await timedEcho(conn, encoder.encode("hi"))).echo.length, 2);
  assert.equal(await conn.read(new Uint8Array(10)), null);
  const ms = performance.now() - started;
  assert.ok(ms >= 290 && ms < 2000, `${ms.toFixed(0)} ms`);
});

Deno.test("--reset-after 1000: at most 1000 bytes, then ECONNRESET (an RST on the wire)", async () => {
  await using server = await startServer(["--reset-after", "1000"]);
  const resetsBefore = await outgoingResets();
  using conn = await connect(server.port);
  const sent = patternChunk(2, 0, 64 * KiB);
  const { received, error } = await sendAndRead(conn, sent);
  assert.ok(error instanceof Deno.errors.ConnectionReset, String(error));
  assert.ok(received.length <= 1000, `${received.length} bytes`);
  assert.ok(bytesEqual(received, sent.subarray(0, received.length)));
  assert.ok(await outgoingResets() > resetsBefore, "no RST counted");
  assert.match(
    await server.stderr.waitFor(/ close conn=1 /),
    / reason=fault-reset bytes_echoed=1000 /,
  );
});

Deno.test("--blackhole: reads everything, answers nothing, closes at the peer's EOF", async () => {
  await using server = await startServer(["--blackhole"]);
  using conn = await connect(server.port);
  const echo = await roundTrip(conn, patternChunk(4, 0, 256 * KiB));
  assert.equal(echo.length, 0);
  assert.match(
    await server.stderr.waitFor(/ close conn=1 /),
    / reason=eof bytes_echoed=0 /,
  );
});

Deno.test("--fault-rate 0.5 over 200 connections: 30 % to 70 % get the faults", async () => {
  await using server = await startServer([
    "--close-after",
    "1",
    "--fault-rate",
    "0.5",
    "--quiet",
  ]);
  let faulted = 0;
  for (let i = 0; i < 200; i++) {
    using conn = await connect(server.port);
    const echo = await roundTrip(conn, encoder.encode("ab"));
    if (echo.length === 1) faulted++;
    else assert.equal(echo.length, 2);
  }
  assert.ok(faulted >= 60 && faulted <= 140, `${faulted} of 200`);
});

Deno.test("--fault-seed makes the choice of --fault-rate reproducible", async () => {
  const choices = async () => {
    await using server = await startServer([
      "--close-after",
      "1",
      "--fault-rate",
      "0.5",
      "--fault-seed",
      "42",
      "--quiet",
    ]);
    let pattern = "";
    for (let i = 0; i < 20; i++) {
      using conn = await connect(server.port);
      pattern += (await roundTrip(conn, encoder.encode("ab"))).length;
    }
    return pattern;
  };
  const first = await choices();
  assert.match(first, /1/);
  assert.match(first, /2/);
  assert.equal(await choices(), first);
});

Deno.test("PUT /faults changes the faults of an open connection; without --admin-faults it is refused", async () => {
  await using server = await startServer([
    "--admin-port",
    "0",
    "--admin-faults",
  ]);
  const admin = /http:\/\/(\S+)/.exec(
    await server.stdout.waitFor(/^admin listening/),
  )?.[1];
  using conn = await connect(server.port);
  assert.ok((await timedEcho(conn, Uint8Array.of(1))).ms < 150);
  const put = await fetch(`http://${admin}/faults`, {
    method: "PUT",
    body: JSON.stringify({ delay: "200ms" }),
  });
  assert.equal(put.status, 200);
  assert.deepEqual(await put.json(), { delay: "200ms" });
  assert.ok((await timedEcho(conn, Uint8Array.of(2))).ms >= 190);
  const bad = await fetch(`http://${admin}/faults`, {
    method: "PUT",
    body: JSON.stringify({ delay: "soon" }),
  });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /^Fault "delay": Invalid duration "soon"/);
  const shown = await fetch(`http://${admin}/faults`);
  assert.deepEqual(await shown.json(), { delay: "200ms" });
  const metrics = await (await fetch(`http://${admin}/metrics`)).text();
  assert.match(metrics, /^echo_faults_info\{delay="200ms"\} 1$/m);

  await using fixed = await startServer([
    "--admin-port",
    "0",
    "--delay",
    "1ms",
  ]);
  const fixedAdmin = /http:\/\/(\S+)/.exec(
    await fixed.stdout.waitFor(/^admin listening/),
  )?.[1];
  const refused = await fetch(`http://${fixedAdmin}/faults`, {
    method: "PUT",
    body: "{}",
  });
  assert.equal(refused.status, 403);
  await refused.body?.cancel();
  const readOnly = await fetch(`http://${fixedAdmin}/faults`);
  assert.deepEqual(await readOnly.json(), { delay: "1ms" });
});

Deno.test("faults apply over TLS and Unix sockets too", async () => {
  await withTempDir(async (dir) => {
    {
      await using server = await startServer([
        "--tls",
        "--tls-cert-out",
        `${dir}/cert.pem`,
        "--delay",
        "200ms",
      ], { permissions: FILE_PERMISSIONS });
      using conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [await Deno.readTextFile(`${dir}/cert.pem`)],
      });
      const { echo, ms } = await timedEcho(conn, encoder.encode("hi"));
      assert.equal(new TextDecoder().decode(echo), "hi");
      assert.ok(ms >= 190, `${ms.toFixed(0)} ms`);
    }
    const path = `${dir}/echo.sock`;
    await using server = await startServer(["--close-after", "3"], {
      address: ["--unix", path],
      permissions: FILE_PERMISSIONS,
    });
    using conn = await Deno.connect({ transport: "unix", path });
    const echo = await roundTrip(conn, encoder.encode("hello"));
    assert.equal(new TextDecoder().decode(echo), "hel");
    assert.match(
      await server.stderr.waitFor(/ close conn=1 /),
      / reason=fault-close /,
    );
  });
});

Deno.test("UDP: --udp-drop 1 answers nothing, --udp-duplicate 1 answers twice, --delay holds datagrams", async () => {
  const exchange = async (args: string[], waitMs: number) => {
    await using server = await startServer(["--udp", "--no-tcp", ...args]);
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: "127.0.0.1",
      port: 0,
    });
    const started = performance.now();
    await socket.send(encoder.encode("ping"), {
      transport: "udp",
      hostname: "127.0.0.1",
      port: server.port,
    });
    const answers: number[] = [];
    const deadline = setTimeout(() => socket.close(), waitMs);
    try {
      while (true) {
        const [data] = await socket.receive();
        assert.equal(new TextDecoder().decode(data), "ping");
        answers.push(performance.now() - started);
      }
    } catch {
      // closed at the deadline
    } finally {
      clearTimeout(deadline);
      try {
        socket.close();
      } catch {
        // already closed at the deadline
      }
    }
    return answers;
  };
  assert.equal((await exchange(["--udp-drop", "1"], 500)).length, 0);
  assert.equal((await exchange(["--udp-duplicate", "1"], 500)).length, 2);
  const [late] = await exchange(["--delay", "200ms"], 700);
  assert.ok(late !== undefined && late >= 190, `${late} ms`);
});

Deno.test("--discard reads and answers nothing; --chargen sends RFC 864 lines", async () => {
  {
    await using server = await startServer(["--discard"]);
    using conn = await connect(server.port);
    assert.equal(
      (await roundTrip(conn, patternChunk(5, 0, 1024 * KiB))).length,
      0,
    );
  }
  await using server = await startServer(["--chargen"]);
  using conn = await connect(server.port);
  const lines = new Uint8Array(74 * 96);
  let filled = 0;
  while (filled < lines.length) {
    const n = await conn.read(lines.subarray(filled));
    assert.ok(n !== null);
    filled += n;
  }
  const text = new TextDecoder().decode(lines).split("\r\n");
  assert.equal(
    text[0],
    Array.from({ length: 72 }, (_, i) => String.fromCharCode(32 + i)).join(""),
  );
  assert.equal(
    text[1],
    Array.from({ length: 72 }, (_, i) => String.fromCharCode(33 + i)).join(""),
  );
  assert.equal(text[95], text[0], "the pattern repeats after 95 lines");
  await conn.closeWrite();
  await readToEnd(conn);
});

Deno.test("echo-client bench against a faulty server keeps going, counts errors by cause, exits 1", async () => {
  await using server = await startServer([
    "--reset-after",
    "6400",
    "--quiet",
  ]);
  const result = await runScript(CLIENT_SCRIPT, [
    "bench",
    "--port",
    String(server.port),
    "--connections",
    "4",
    "--duration",
    "1s",
    "--json",
    "--quiet",
  ]);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(new TextDecoder().decode(result.stdout));
  // 100 round trips of 64 B per connection, then a reset: many of each.
  assert.ok(report.errors_by_cause.reset >= 10, JSON.stringify(report));
  assert.ok(report.completed >= 10 * report.errors_by_cause.reset);
  assert.equal(report.mismatches, 0);
});

Deno.test("--blackhole with --idle-timeout over the resettable sockets (--admin-faults): the idle connection ends, and so does the server on SIGTERM", async () => {
  await using server = await startServer([
    "--blackhole",
    "--idle-timeout",
    "200ms",
    "--admin-port",
    "0",
    "--admin-faults",
    "--drain-timeout",
    "2s",
  ]);
  using conn = await connect(server.port);
  await conn.write(encoder.encode("anyone there?"));
  assert.equal(await conn.read(new Uint8Array(1)), null, "closed when idle");
  assert.match(
    await server.stderr.waitFor(/ close conn=1 /),
    / reason=idle-timeout /,
  );
  server.process.kill("SIGTERM");
  assert.equal((await server.process.status).code, 0);
});

Deno.test("--chargen with --idle-timeout: a client that never reads loses its slot once the writes stall", async () => {
  await using server = await startServer([
    "--chargen",
    "--idle-timeout",
    "300ms",
  ]);
  using _conn = await connect(server.port);
  // Never read: the kernel's buffers fill, the server's writes stall.
  assert.match(
    await server.stderr.waitFor(/ close conn=1 /),
    / reason=idle-timeout /,
  );
});
