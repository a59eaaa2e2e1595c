import assert from "node:assert/strict";
import { VERSION } from "../lib/cli/mod.ts";
import { LatencyHistogram } from "../lib/bench/mod.ts";
import {
  CLIENT_SCRIPT,
  FILE_PERMISSIONS,
  patternChunk,
  PROGRAM_PERMISSIONS,
  readToEnd,
  RssWatch,
  runClient,
  runScript,
  startCorruptingServer,
  startFakeServer,
  startServer,
  withTempDir,
} from "./_helpers.ts";

const MiB = 1024 * 1024;
const decoder = new TextDecoder();

Deno.test("client sends the message words with a newline and prints the echo", async () => {
  await using server = await startServer(["--quiet"]);
  const result = await runClient([
    "--port",
    String(server.port),
    "hello",
    "world",
  ]);
  assert.equal(result.code, 0);
  assert.equal(decoder.decode(result.stdout), "hello world\n");
  assert.equal(result.stderr, "");
});

Deno.test("client -n sends the message without the newline", async () => {
  await using server = await startServer();
  const result = await runClient([
    "-n",
    "--port",
    String(server.port),
    "no",
    "newline",
  ]);
  assert.equal(result.code, 0);
  assert.equal(decoder.decode(result.stdout), "no newline");
  assert.match(await server.stderr.waitFor(/ close /), / bytes_echoed=10 /);
});

/** Streams `total` pattern bytes through `client.ts`; returns its peak RSS. */
async function streamThroughClient(
  port: number,
  total: number,
): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", CLIENT_SCRIPT, "--port", String(port)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  using memory = new RssWatch(child.pid);
  const feeding = (async () => {
    const writer = child.stdin.getWriter();
    for (let offset = 0; offset < total; offset += MiB) {
      await writer.write(
        patternChunk(5, offset, Math.min(MiB, total - offset)),
      );
    }
    await writer.close();
  })();
  feeding.catch(() => {}); // a failure surfaces at `await feeding`, not as an uncaught rejection
  let received = 0;
  let intact = true;
  for await (const chunk of child.stdout) {
    const skew = received % 4;
    const expected = patternChunk(5, received - skew, skew + chunk.length);
    for (let i = 0; i < chunk.length && intact; i++) {
      intact = chunk[i] === expected[skew + i];
    }
    received += chunk.length;
  }
  await feeding;
  const status = await child.status;
  const stderr = decoder.decode(await new Response(child.stderr).arrayBuffer());
  assert.equal(stderr, "");
  assert.equal(status.code, 0);
  assert.equal(received, total);
  assert.ok(intact, "stdout is exactly stdin");
  return memory.peak;
}

Deno.test("client streams 256 MiB of stdin through the server and back in bounded memory", async () => {
  await using server = await startServer(["--quiet"]);
  const small = await streamThroughClient(server.port, 8 * MiB);
  const large = await streamThroughClient(server.port, 256 * MiB);
  // Holding on to the stream (or to verified chunks) would add tens of MiB.
  assert.ok(
    large - small < 32 * MiB,
    `peak RSS ${small} bytes for 8 MiB, ${large} bytes for 256 MiB`,
  );
});

Deno.test("client exits 1 and says where when the echo differs (message)", async () => {
  await using server = startCorruptingServer(0);
  const result = await runClient(["--port", String(server.port), "hi"]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "error: Echo differs from what was sent at byte 0: sent 0x68, got 0x69\n",
  );
  assert.equal(decoder.decode(result.stdout), "ii\n", "prints what came back");
});

Deno.test("client exits 1 when the streamed echo differs", async () => {
  await using server = startCorruptingServer(100_000);
  const result = await runClient(
    ["--port", String(server.port)],
    patternChunk(1, 0, MiB),
  );
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "error: Echo differs from what was sent at byte 100000\n",
  );
});

Deno.test("client exits 1 when the server echoes more than was sent, as a message and as a stream", async () => {
  await using server = startFakeServer(async (conn) => {
    const received = await readToEnd(conn);
    await conn.write(Uint8Array.of(...received, 0x21));
    await conn.closeWrite();
  });
  const message = await runClient(["--port", String(server.port), "hi"]);
  const stream = await runClient(
    ["--port", String(server.port)],
    new TextEncoder().encode("hi\n"),
  );
  // "hi" is sent as a line, "hi\n", as stdin is here.
  for (const result of [message, stream]) {
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "error: Echo has more bytes than were sent: extra data at byte 3\n",
    );
  }
});

Deno.test("client exits 7 when the server never echoes within --timeout", async () => {
  // Silent even after the client's half-close: it holds the connection
  // until the client is done.
  const clientDone = Promise.withResolvers<void>();
  await using server = startFakeServer(async (conn) => {
    await readToEnd(conn);
    await clientDone.promise;
  });
  const result = await runClient([
    "--timeout",
    "200ms",
    "--port",
    String(server.port),
    "hello",
  ]);
  clientDone.resolve();
  assert.equal(result.code, 7);
  assert.equal(
    result.stderr,
    "error: No echo for 200 ms: received 0 of 6 bytes\n",
  );
});

Deno.test("client exits 6 when nothing listens, and 3 for an unknown host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const refused = await runClient(["--port", String(port), "x"]);
  assert.equal(refused.code, 6);
  assert.equal(
    refused.stderr,
    `error: Connection refused by "127.0.0.1:${port}": nothing is listening there\n`,
  );
  const unknown = await runClient(["--host", "no-such-host.invalid", "x"]);
  assert.equal(unknown.code, 3);
  assert.equal(
    unknown.stderr,
    `error: Unknown host "no-such-host.invalid": name lookup failed\n`,
  );
});

for (const value of ["0", "-1", "65536", "abc", "80.5", ""]) {
  Deno.test(`client refuses --port "${value}" with one line and exit code 2`, async () => {
    const result = await runClient(["--port", value, "x"]);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `error: --port: Invalid port "${value}": expected an integer from 1 to 65535: see --help\n`,
    );
  });
}

Deno.test("client refuses unknown flags and unitless timeouts with exit code 2", async () => {
  const unknown = await runClient(["--colour"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, `error: Unknown flag "--colour": see --help\n`);
  const timeout = await runClient(["--timeout", "10", "x"]);
  assert.equal(timeout.code, 2);
  assert.match(
    timeout.stderr,
    /^error: --timeout: Invalid duration "10": .*see --help\n$/,
  );
});

Deno.test("client --help and --version print to stdout and exit 0", async () => {
  const help = await runClient(["--help"]);
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /^echo-client: .*\n\nUsage:\n/);
  const version = await runClient(["-V"]);
  assert.equal(version.code, 0);
  assert.equal(decoder.decode(version.stdout), `echo-client ${VERSION}\n`);
});

const hasScript = (() => {
  try {
    return new Deno.Command("script", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "client on a terminal sends each typed line and prints its echo; Ctrl-D ends",
  ignore: !hasScript, // util-linux `script` provides the pseudo-terminal
  async fn(): Promise<void> {
    await using server = await startServer();
    const command =
      `'${Deno.execPath()}' run --allow-net '${CLIENT_SCRIPT}' --port ${server.port}`;
    const child = new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let screen = "";
    let changed: () => void = () => {};
    const reading = (async () => {
      for await (const chunk of child.stdout) {
        screen += decoder.decode(chunk, { stream: true });
        changed();
      }
    })();
    const waitForScreen = async (test: (text: string) => boolean) => {
      while (!test(screen)) {
        await new Promise<void>((resolve) => changed = resolve);
      }
    };
    const occurrences = (text: string, word: string) =>
      text.split(word).length - 1;
    const keyboard = child.stdin.getWriter();
    await waitForScreen((text) => text.includes("type lines to echo"));
    await keyboard.write(new TextEncoder().encode("first line\n"));
    // The terminal shows the typed line, then the echo: two copies.
    await waitForScreen((text) => occurrences(text, "first line") === 2);
    await keyboard.write(new TextEncoder().encode("second\n"));
    await waitForScreen((text) => occurrences(text, "second") === 2);
    await keyboard.write(new Uint8Array([4])); // Ctrl-D
    await keyboard.close();
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0);
    assert.match(
      await server.stderr.waitFor(/ close /),
      / reason=eof bytes_echoed=18 /,
    );
  },
});

Deno.test("client bench --json reports verified round trips and latency percentiles", async () => {
  await using server = await startServer(["--quiet"]);
  const result = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--connections",
    "4",
    "--count",
    "400",
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(decoder.decode(result.stdout));
  assert.equal(report.completed, 400);
  assert.equal(report.errors, 0);
  assert.equal(report.mismatches, 0);
  assert.ok(
    report.latency_us.p50 > 0 &&
      report.latency_us.p999 >= report.latency_us.p50,
  );
});

Deno.test("client bench exits 1 when the echo is corrupted, and 2 for a bad mode", async () => {
  await using server = startCorruptingServer(0);
  const corrupted = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--count",
    "3",
  ]);
  assert.equal(corrupted.code, 1);
  // Each of the 3 round trips is corrupted; each ends its connection.
  assert.match(decoder.decode(corrupted.stdout), /^mismatches +3$/m);
  assert.match(
    decoder.decode(corrupted.stdout),
    /^by cause +mismatch 3 \(each connection replaced\)$/m,
  );
  const bad = await runClient(["bench", "--mode", "pingpong"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^error: --mode: Invalid mode "pingpong": expected ping-pong, stream or connect/,
  );
});

Deno.test("client and bench exit 10, saying so, when stdout is closed before they write", async () => {
  await using server = await startServer(["--quiet"]);
  const port = ["--port", String(server.port)];
  for (
    const args of [
      [...port, "hello"],
      ["bench", ...port, "--count", "10", "--json"],
    ]
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PROGRAM_PERMISSIONS, CLIENT_SCRIPT, ...args],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Like `| head -c 0`: the reader is gone before the first byte.
    await child.stdout.cancel();
    const { code, stderr } = await child.output();
    assert.equal(
      decoder.decode(stderr),
      "error: Standard output was closed before all output was written (broken pipe)\n",
      args.join(" "),
    );
    assert.equal(code, 10, args.join(" "));
  }
});

Deno.test("--send-proxy against a server that does not expect a PROXY header says so", async () => {
  await using server = await startServer();
  for (const version of ["v1", "v2"]) {
    const result = await runClient([
      "--port",
      String(server.port),
      "--send-proxy",
      version,
      "hi",
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /\(the server echoed our PROXY header: it does not expect one; leave out --send-proxy, or start it with --proxy-protocol\)\n$/,
    );
  }
});

Deno.test("bench --tls --messages-per-connection: verified over TLS, connect and handshake reported apart; an unreadable --ca is a usage error", async () => {
  await withTempDir(async (dir) => {
    await using server = await startServer(
      ["--tls", "--tls-cert-out", `${dir}/cert.pem`, "--quiet"],
      { permissions: FILE_PERMISSIONS },
    );
    const result = await runScript(
      CLIENT_SCRIPT,
      [
        "bench",
        "--port",
        String(server.port),
        "--tls",
        "--ca",
        `${dir}/cert.pem`,
        "--messages-per-connection",
        "10",
        "--count",
        "100",
        "--json",
      ],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(decoder.decode(result.stdout));
    assert.equal(report.completed, 100);
    assert.equal(report.connections_opened, 10);
    assert.ok(report.tls_handshake_us.p50 > 0);
    assert.ok(report.connect_us.p50 > 0);
    const missing = await runScript(
      CLIENT_SCRIPT,
      [
        "bench",
        "--port",
        String(server.port),
        "--tls",
        "--ca",
        `${dir}/nope.pem`,
        "--count",
        "1",
      ],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: --ca: /);
    assert.equal(missing.stderr.trim().split("\n").length, 1);
  });
});

Deno.test("bench --interval: a line per interval while it runs; with --json, NDJSON with the summary last", async () => {
  await using server = await startServer(["--quiet"]);
  const json = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--duration",
    "1s",
    "--warmup",
    "0s",
    "--interval",
    "200ms",
    "--json",
  ]);
  assert.equal(json.code, 0, json.stderr);
  const lines = decoder.decode(json.stdout).trim().split("\n").map((line) =>
    JSON.parse(line)
  );
  const intervals = lines.slice(0, -1);
  assert.ok(intervals.length >= 3, `${intervals.length} intervals`);
  for (const interval of intervals) {
    assert.equal(interval.type, "interval");
    assert.ok(interval.completed > 0 && interval.latency_us.p99 > 0);
  }
  const summary = lines.at(-1);
  assert.equal(summary.type, "summary");
  const counted = intervals.reduce((n, i) => n + i.completed, 0);
  assert.ok(counted <= summary.completed, "intervals are parts of the run");
  const text = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--duration",
    "600ms",
    "--interval",
    "200ms",
  ]);
  assert.match(
    decoder.decode(text.stdout),
    /^\d.*: [\d,]+\/s, [\d.]+ MB\/s, p50 .*, p99 .*, errors 0$/m,
  );
});

Deno.test("bench --udp: the datagrams line, udp in the JSON; --udp refuses what UDP cannot do", async () => {
  await using server = await startServer(["--udp", "--no-tcp", "--quiet"]);
  const json = await runClient([
    "bench",
    "--udp",
    "--port",
    String(server.port),
    "--connections",
    "2",
    "--count",
    "100",
    "--json",
  ]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(decoder.decode(json.stdout));
  assert.deepEqual(report.udp, {
    sent: 100,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    loss_percent: 0,
  });
  const text = await runClient([
    "bench",
    "--udp",
    "--port",
    String(server.port),
    "--count",
    "10",
  ]);
  assert.match(
    decoder.decode(text.stdout),
    /^datagrams +10 sent, 0 lost \(0\.00 %\), 0 duplicates, 0 reordered$/m,
  );
  for (
    const args of [
      ["--udp", "--tls"],
      ["--udp", "--mode", "stream"],
      ["--udp", "--size", "70000"],
      ["--udp", "--messages-per-connection", "5"],
    ]
  ) {
    const refused = await runClient(["bench", ...args]);
    assert.equal(refused.code, 2, args.join(" "));
    assert.match(refused.stderr, /^error: --(udp|size): /);
  }
});

Deno.test("bench --threads 2: the load in two Workers, one merged report that says so", async () => {
  await using server = await startServer(["--quiet"]);
  const result = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--threads",
    "2",
    "--connections",
    "5",
    "--count",
    "400",
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(decoder.decode(result.stdout));
  assert.equal(report.threads, 2);
  assert.equal(report.connections, 5);
  assert.equal(report.completed, 400);
  assert.equal(report.errors + report.mismatches, 0);
  assert.ok(report.latency_us.p99 > 0);
  const refused = await runClient([
    "bench",
    "--threads",
    "2",
    "--interval",
    "1s",
  ]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^error: --interval: not with --threads/);
});

Deno.test("bench --threads 8 under deno run's read permission for lib/ only: no thread drops file access while another still loads its modules", async () => {
  await using server = await startServer(["--quiet"]);
  const result = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--threads",
    "8",
    "--connections",
    "8",
    "--count",
    "80",
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(decoder.decode(result.stdout)).threads, 8);
});

Deno.test("echo-client merge: two bench runs' JSON give one report whose percentiles are those of all their samples", async () => {
  await using server = await startServer(["--quiet"]);
  const runs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const run = await runClient([
      "bench",
      "--port",
      String(server.port),
      "--connections",
      "3",
      "--count",
      "300",
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    runs.push(decoder.decode(run.stdout));
  }
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.json`, runs[0] as string);
    await Deno.writeTextFile(`${dir}/b.json`, runs[1] as string);
    const merged = await runScript(
      CLIENT_SCRIPT,
      ["merge", `${dir}/a.json`, `${dir}/b.json`, "--json"],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(merged.code, 0, merged.stderr);
    const report = JSON.parse(decoder.decode(merged.stdout));
    const [a, b] = runs.map((run) => JSON.parse(run));
    assert.equal(report.runs, 2);
    assert.equal(report.completed, 600);
    assert.equal(report.connections, 6);
    assert.ok(Math.abs(report.per_s - (a.per_s + b.per_s)) < 1, "rates add");
    // The reference: one histogram of every sample of both runs.
    const all = LatencyHistogram.fromData(a.histograms.latency_us);
    all.merge(LatencyHistogram.fromData(b.histograms.latency_us));
    for (
      const [key, p] of [["p50", 50], ["p99", 99], ["p999", 99.9]] as const
    ) {
      assert.equal(
        report.latency_us[key],
        Math.round(all.percentile(p) * 10) / 10,
        key,
      );
    }
    const bad = await runScript(
      CLIENT_SCRIPT,
      ["merge", `${dir}/nope.json`],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: Cannot read ".*nope\.json"/);
  });
});
