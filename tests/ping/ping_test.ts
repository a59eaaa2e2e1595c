import assert from "node:assert/strict";
import {
  formatProbe,
  type PingOptions,
  probePayload,
  runPing,
  statistics,
} from "../../lib/ping/mod.ts";
import { serveEcho } from "../../lib/server/mod.ts";
import { generateSelfSigned } from "../../lib/tls/mod.ts";
import {
  CLIENT_SCRIPT,
  FILE_PERMISSIONS,
  LineCollector,
  loopback,
  memoryLogger,
  runClient,
  type ServerProcess,
  startCorruptingServer,
  startEchoServer,
  startServer,
} from "../_helpers.ts";

/**
 * A UDP "server" that answers probes by a rule: `replies(seq)` lists the
 * sequence numbers of the probes to echo now (held ones are kept).
 */
function startScriptedUdpServer(
  replies: (seq: number) => number[],
): { port: number } & AsyncDisposable {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const held = new Map<number, [Uint8Array, Deno.Addr]>();
  const serving = (async () => {
    try {
      for await (const [data, from] of socket) {
        const seq = new DataView(data.buffer, data.byteOffset).getUint32(4);
        held.set(seq, [data, from]);
        for (const answer of replies(seq)) {
          const probe = held.get(answer);
          if (probe !== undefined) await socket.send(probe[0], probe[1]);
        }
      }
    } catch {
      // Closed at the end of the test.
    }
  })();
  return {
    port: (socket.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose](): Promise<void> {
      socket.close();
      await serving;
    },
  };
}

Deno.test("ping over TCP reuses one connection and reports every probe and the statistics", async () => {
  await using server = startEchoServer();
  const seen: string[] = [];
  const summary = await runPing({
    endpoint: loopback(server.port),
    count: 3,
    interval: 1,
    size: 100,
    onProbe: (probe) => seen.push(formatProbe(probe)),
  });
  assert.equal(summary.sent, 3);
  assert.equal(summary.received, 3);
  assert.equal(summary.lossPercent, 0);
  assert.ok(summary.rtt !== undefined && summary.rtt.min <= summary.rtt.max);
  for (const [i, line] of seen.entries()) {
    assert.match(
      line,
      new RegExp(`^seq=${i + 1} bytes=100 time=\\d+\\.\\d{3} ms$`),
    );
  }
  await server.log.waitFor(/"event":"open"/);
  assert.equal(server.log.count(/"event":"open"/), 1);
});

Deno.test("ping --reconnect opens a connection per probe and times the connect apart", async () => {
  await using server = startEchoServer();
  const summary = await runPing({
    endpoint: loopback(server.port),
    count: 2,
    interval: 1,
    reconnect: true,
  });
  assert.equal(summary.received, 2);
  assert.equal(summary.connect?.min !== undefined, true);
  assert.ok(summary.probes.every((probe) => probe.connectMs !== undefined));
  await server.log.waitFor(/"event":"close","conn":2/);
});

Deno.test("UDP ping counts lost probes from a server that drops every other datagram", async () => {
  await using server = startScriptedUdpServer((seq) =>
    seq % 2 === 0 ? [] : [seq]
  );
  const summary = await runPing({
    endpoint: loopback(server.port),
    udp: true,
    count: 4,
    interval: 1,
    timeout: 100,
  });
  assert.equal(summary.sent, 4);
  assert.equal(summary.received, 2);
  assert.equal(summary.lossPercent, 50);
  assert.deepEqual(summary.probes.map((probe) => probe.failure ?? "ok"), [
    "ok",
    "timeout",
    "ok",
    "timeout",
  ]);
});

Deno.test("UDP ping counts duplicates and an echo that arrives after a later one", async () => {
  {
    await using twice = startScriptedUdpServer((seq) => [seq, seq]);
    const summary = await runPing({
      endpoint: loopback(twice.port),
      udp: true,
      count: 3,
      interval: 1,
    });
    assert.equal(summary.received, 3);
    // The copies of probes 1 and 2 are read while waiting for 2 and 3.
    assert.equal(summary.duplicates, 2);
  }
  {
    // Probe 1's echo is held back and sent after probe 2's.
    await using late = startScriptedUdpServer((seq) =>
      seq === 1 ? [] : seq === 2 ? [2, 1] : [seq]
    );
    const summary = await runPing({
      endpoint: loopback(late.port),
      udp: true,
      count: 3,
      interval: 1,
      timeout: 100,
    });
    assert.equal(summary.received, 2);
    assert.equal(summary.reordered, 1);
    assert.equal(summary.probes[0]?.failure, "timeout");
  }
});

Deno.test("statistics gives min, avg, max, mdev and nearest-rank p99", () => {
  const stats = statistics([1, 2, 3, 4]);
  assert.equal(stats.min, 1);
  assert.equal(stats.max, 4);
  assert.equal(stats.avg, 2.5);
  assert.equal(stats.mdev, Math.sqrt(1.25));
  assert.equal(stats.p99, 4);
  assert.deepEqual(Array.from(probePayload(1, 2, 8)), [0, 0, 0, 1, 0, 0, 0, 2]);
});

Deno.test("echo-client ping prints probe lines and a summary, --json for scripts, exit 1 on loss", async () => {
  await using server = startEchoServer();
  const port = String(server.port);
  const text = await runClient([
    "ping",
    "--port",
    port,
    "-c",
    "2",
    "-i",
    "10ms",
  ]);
  assert.equal(text.code, 0, text.stderr);
  const lines = new TextDecoder().decode(text.stdout).trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^seq=1 bytes=64 time=\d+\.\d{3} ms$/);
  assert.equal(lines[2], `--- 127.0.0.1:${port} echo ping ---`);
  assert.equal(
    lines[3],
    "2 sent, 2 received, 0% loss, 0 altered, 0 duplicates, 0 reordered",
  );
  assert.match(
    lines[4] ?? "",
    /^rtt min\/avg\/max\/mdev = [\d.\/]+ ms, p99 [\d.]+ ms$/,
  );

  const json = await runClient([
    "ping",
    "--port",
    port,
    "-c",
    "2",
    "-i",
    "10ms",
    "--json",
  ]);
  const report = JSON.parse(new TextDecoder().decode(json.stdout));
  assert.equal(report.received, 2);
  assert.equal(report.probes.length, 2);
  assert.equal(typeof report.rtt.p99_ms, "number");

  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = String(closed.addr.port);
  closed.close();
  const lost = await runClient(["ping", "--port", deadPort, "-c", "1"]);
  assert.equal(lost.code, 1);
  assert.match(
    new TextDecoder().decode(lost.stdout),
    /^seq=1 lost: refused \(Connection refused/,
  );
});

Deno.test("echo-client ping without --count runs until Ctrl-C, then prints the summary", async () => {
  await using server = startEchoServer();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      CLIENT_SCRIPT,
      "ping",
      "--port",
      String(server.port),
      "-i",
      "20ms",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector(child.stdout);
  await stdout.waitFor(/^seq=2 /);
  child.kill("SIGINT");
  const status = await child.status;
  await stdout.done;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  assert.match(
    stdout.lines.join("\n"),
    /\n--- 127\.0\.0\.1:\d+ echo ping ---\n\d+ sent, \d+ received, 0% loss/,
  );
});

Deno.test("ping over TLS verifies the certificate and reports each probe", async () => {
  const material = await generateSelfSigned(["127.0.0.1"]);
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...material,
  });
  const stop = new AbortController();
  const done = serveEcho(listener, {
    signal: stop.signal,
    logger: memoryLogger().logger,
  });
  try {
    const summary = await runPing({
      endpoint: loopback(listener.addr.port),
      tls: { caCerts: [material.cert] },
      count: 3,
      interval: 1,
    });
    assert.equal(summary.received, 3);
    const refused = await runPing({
      endpoint: loopback(listener.addr.port),
      tls: {},
      count: 1,
    });
    assert.equal(refused.received, 0);
    assert.match(refused.probes[0]?.error ?? "", /unknown issuer/);
  } finally {
    stop.abort();
    await done;
  }
});

Deno.test("ping says why each probe failed, one class per kind of path failure", async () => {
  const classOf = async (
    serverArgs: string[] | undefined,
    options: Partial<PingOptions> = {},
  ) => {
    let server: ServerProcess | undefined;
    let port = 1;
    if (serverArgs !== undefined) {
      server = await startServer(["--quiet", ...serverArgs], {
        permissions: FILE_PERMISSIONS,
      });
      port = server.port;
    }
    try {
      const summary = await runPing({
        endpoint: loopback(port),
        count: 2,
        interval: 1,
        timeout: 300,
        ...options,
      });
      assert.equal(summary.received, 0);
      return summary.failures;
    } finally {
      await server?.[Symbol.asyncDispose]();
    }
  };
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = closed.addr.port;
  closed.close();
  assert.deepEqual(
    await classOf(undefined, { endpoint: loopback(deadPort) }),
    { refused: 2 },
  );
  assert.deepEqual(
    await classOf(undefined, {
      endpoint: { transport: "tcp", hostname: "no-such-host.invalid", port: 7 },
    }),
    { "host-not-found": 2 },
  );
  assert.deepEqual(await classOf(["--blackhole"]), { timeout: 2 });
  assert.deepEqual(await classOf(["--reset-after", "1"]), { reset: 2 });
  assert.deepEqual(await classOf(["--close-after", "10"]), { closed: 2 });
  assert.deepEqual(await classOf([], { tls: {} }), { "tls-handshake": 2 });
  assert.deepEqual(await classOf(["--tls"], { tls: {} }), { certificate: 2 });
  {
    await using corrupting = startCorruptingServer(3);
    const summary = await runPing({
      endpoint: loopback(corrupting.port),
      count: 2,
      interval: 1,
      timeout: 300,
    });
    assert.deepEqual(summary.failures, { altered: 2 });
    assert.equal(summary.mismatched, 2);
  }
  assert.deepEqual(
    await classOf(["--udp", "--no-tcp", "--udp-drop", "1"], { udp: true }),
    { timeout: 2 },
  );
});

Deno.test("the failure classes show in the probe lines, the summary and the JSON", async () => {
  await using server = await startServer(["--quiet", "--reset-after", "1"]);
  const text = await runClient([
    "ping",
    "--port",
    String(server.port),
    "-c",
    "2",
    "-i",
    "10ms",
  ]);
  assert.equal(text.code, 1);
  const output = new TextDecoder().decode(text.stdout);
  assert.match(output, /^seq=1 lost: reset \(Connection reset by peer/m);
  assert.match(output, /^failures: reset 2$/m);
  const json = await runClient([
    "ping",
    "--port",
    String(server.port),
    "-c",
    "2",
    "-i",
    "10ms",
    "--json",
  ]);
  const report = JSON.parse(new TextDecoder().decode(json.stdout));
  assert.deepEqual(report.failures, { reset: 2 });
  assert.equal(report.probes[0].failure, "reset");
});
