import assert from "node:assert/strict";
import {
  formatReport,
  LatencyHistogram,
  type LoadProgress,
  type LoadReport,
  mergeLoadReports,
  reportFromJson,
  reportToJson,
  runLoad,
} from "../../lib/bench/mod.ts";
import { parseBannerTemplate } from "../../lib/banner/mod.ts";
import {
  FILE_PERMISSIONS,
  loopback,
  startCorruptingServer,
  startEchoServer,
  startFakeServer,
  startServer,
  startSilentServer,
  withTempDir,
} from "../_helpers.ts";

async function withEchoServer(
  run: (port: number) => Promise<void>,
): Promise<void> {
  await using server = startEchoServer();
  await run(server.port);
}

Deno.test("ping-pong load completes exactly --count verified round trips", async () => {
  await withEchoServer(async (port) => {
    const report = await runLoad({
      endpoint: loopback(port),
      connections: 10,
      size: 100,
      count: 2_000,
    });
    assert.equal(report.completed, 2_000);
    assert.equal(report.bytesVerified, 200_000);
    assert.equal(report.latency.count, 2_000);
    assert.equal(report.errors, 0);
    assert.equal(report.mismatches, 0);
    assert.ok(report.latency.percentile(50) > 0);
  });
});

Deno.test("connect load opens, echoes and closes --count connections", async () => {
  await withEchoServer(async (port) => {
    const report = await runLoad({
      endpoint: loopback(port),
      mode: "connect",
      connections: 4,
      count: 300,
    });
    assert.equal(report.completed, 300);
    assert.equal(report.errors + report.mismatches, 0);
  });
});

Deno.test("stream load verifies every byte of --count messages per run", async () => {
  await withEchoServer(async (port) => {
    const report = await runLoad({
      endpoint: loopback(port),
      mode: "stream",
      connections: 2,
      size: 65_536,
      count: 200,
    });
    assert.equal(report.bytesVerified, 200 * 65_536);
    assert.equal(report.errors + report.mismatches, 0);
  });
});

Deno.test("a duration-bounded load stops by itself and counts no errors for the stop", async () => {
  await withEchoServer(async (port) => {
    const report = await runLoad({
      endpoint: loopback(port),
      mode: "stream",
      connections: 2,
      duration: 300,
    });
    assert.ok(
      report.seconds >= 0.25 && report.seconds < 5,
      `ran ${report.seconds} s`,
    );
    assert.ok(report.bytesVerified > 0);
    assert.equal(report.errors + report.mismatches, 0);
  });
});

Deno.test("a fixed rate paces the round trips", async () => {
  await withEchoServer(async (port) => {
    const report = await runLoad({
      endpoint: loopback(port),
      connections: 4,
      rate: 200,
      count: 100,
    });
    // 100 round trips at 200/s take about half a second, not a few ms.
    assert.ok(report.seconds > 0.4, `took ${report.seconds} s`);
    assert.equal(report.completed, 100);
    assert.equal(report.targetPerSecond, 200, "shown beside the achieved rate");
    assert.match(
      formatReport(report),
      /^rate +[\d,]+ round trips\/s \(target 200\/s\)$/m,
    );
    assert.equal(reportToJson(report).target_per_s, 200);
  });
});

Deno.test("load against a corrupting server reports mismatches", async () => {
  await using server = startCorruptingServer(10);
  const report = await runLoad({
    endpoint: loopback(server.port),
    connections: 1,
    size: 64,
    count: 5,
  });
  // Each mismatch ends its connection; each new one is corrupted too.
  assert.equal(report.mismatches, 5);
  assert.equal(report.errorsByCause.mismatch, 5);
  assert.match(
    report.errorSamples[0] ?? "",
    /^Echo differs at byte 10 of a 64-byte message$/,
  );
});

Deno.test("load against a closed port: each connection tries 5 times, then gives up", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const report = await runLoad({
    endpoint: loopback(port),
    connections: 3,
    count: 10,
  });
  assert.equal(report.errors, 15);
  assert.equal(report.errorsByCause.refused, 15);
  assert.equal(report.completed, 0);
});

Deno.test("a server that ends connections now and then: each is counted by cause and replaced, the load goes on", async () => {
  await using server = startFakeServer(async (conn) => {
    const buffer = new Uint8Array(64);
    for (let trip = 0; trip < 3; trip++) {
      let received = 0;
      while (received < 64) {
        const n = await conn.read(buffer.subarray(received));
        if (n === null) return;
        received += n;
      }
      await conn.write(buffer);
    }
  });
  const report = await runLoad({
    endpoint: loopback(server.port),
    connections: 2,
    size: 64,
    count: 30,
  });
  // Every claimed round trip either completed or ended its connection;
  // each connection completes 3 before its 4th fails.
  assert.equal(report.completed + report.errors, 30);
  assert.ok(
    report.errors >= 6 && report.completed >= 20,
    `${report.completed} completed, ${report.errors} errors`,
  );
  assert.equal(report.errorsByCause.closed, report.errors);
  assert.equal(report.mismatches, 0);
});

Deno.test("a server that never answers: the connection times out, is replaced, and the load ends", async () => {
  await using server = startSilentServer();
  const started = performance.now();
  const report = await runLoad({
    endpoint: loopback(server.port),
    connections: 1,
    duration: 600,
    timeout: 200,
  });
  assert.ok(performance.now() - started < 2_000);
  assert.ok(
    report.errorsByCause.timeout >= 1,
    JSON.stringify(report.errorsByCause),
  );
  assert.equal(report.completed, 0);
  assert.match(report.errorSamples[0] ?? "", /^No progress for 200 ms/);
});

/**
 * A server that reads one 64-byte request, answers `reply(request)` in one
 * write and closes; and a one-connection load of 64-byte messages on it.
 */
async function loadAgainstOneReply(
  reply: (request: Uint8Array) => Uint8Array,
): Promise<LoadReport> {
  await using server = startFakeServer(async (conn) => {
    const request = new Uint8Array(64);
    let received = 0;
    while (received < request.length) {
      const n = await conn.read(request.subarray(received));
      if (n === null) return;
      received += n;
    }
    await conn.write(reply(request));
  });
  return await runLoad({
    endpoint: loopback(server.port),
    connections: 1,
    size: 64,
    count: 3,
  });
}

Deno.test("a server that closes mid-echo counts one error, not a mismatch", async () => {
  // 20 bytes, then the close: 44 bytes short.
  const report = await loadAgainstOneReply((request) =>
    request.subarray(0, 20)
  );
  // Each connection fails its first round trip, and the count is 3.
  assert.equal(report.errors, 3);
  assert.equal(report.errorsByCause.closed, 3);
  assert.equal(report.mismatches, 0);
  assert.equal(report.completed, 0);
  assert.deepEqual(report.errorSamples, [
    "Connection closed by the server mid-echo",
  ]);
});

Deno.test("a server that sends more than it was sent is caught", async () => {
  // The echo and one byte more, in one write: one segment on loopback.
  const report = await loadAgainstOneReply((request) => {
    const reply = new Uint8Array(request.length + 1);
    reply.set(request);
    return reply;
  });
  assert.equal(report.mismatches, 3);
  assert.equal(report.completed, 0);
  assert.deepEqual(report.errorSamples, [
    "Echo longer than the 64-byte message",
  ]);
});

Deno.test("round trips of the warm-up are echoed but neither counted nor timed", async () => {
  let bytesEchoed = 0;
  await using server = startFakeServer(async (conn) => {
    const buffer = new Uint8Array(4096);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      await conn.write(buffer.subarray(0, n));
      bytesEchoed += n;
    }
  });
  const started = performance.now();
  const progress: LoadProgress = {
    completed: 0,
    bytesVerified: 0,
    errors: 0,
    latency: new LatencyHistogram(),
  };
  const running = runLoad({
    endpoint: loopback(server.port),
    connections: 2,
    size: 10,
    count: 5,
    warmup: 200,
    progress,
  });
  assert.equal(progress.warmingUp, true, "live progress shows the warm-up");
  const report = await running;
  assert.equal(progress.warmingUp, false);
  const elapsed = (performance.now() - started) / 1000;
  assert.equal(report.completed, 5);
  assert.equal(report.latency.count, 5);
  assert.equal(report.bytesVerified, 50);
  assert.equal(report.warmupSeconds, 0.2);
  assert.ok(bytesEchoed > 50, `the warm-up ran: ${bytesEchoed} B echoed`);
  assert.ok(
    report.seconds <= elapsed - 0.2,
    `measured ${report.seconds} s of ${elapsed} s, after the warm-up`,
  );
});

Deno.test("TLS load: every byte verified over TLS; a new connection every N round trips, connect and handshake timed apart", async () => {
  await withTempDir(async (dir) => {
    await using server = await startServer(
      ["--tls", "--tls-cert-out", `${dir}/cert.pem`],
      { permissions: FILE_PERMISSIONS },
    );
    const tls = { caCerts: [await Deno.readTextFile(`${dir}/cert.pem`)] };
    const report = await runLoad({
      endpoint: loopback(server.port),
      connections: 1,
      size: 100,
      count: 40,
      messagesPerConnection: 5,
      tls,
    });
    assert.equal(report.completed, 40);
    assert.equal(report.errors + report.mismatches, 0);
    assert.equal(report.connectLatency.count, 8, "40 round trips / 5");
    assert.equal(report.handshakeLatency?.count, 8);
    assert.ok((report.handshakeLatency?.min ?? 0) > 0);

    const untrusted = await runLoad({
      endpoint: loopback(server.port),
      connections: 1,
      count: 3,
      tls: {},
    });
    assert.equal(untrusted.completed, 0);
    assert.equal(
      untrusted.errorsByCause.tls,
      5,
      "5 tries, then the slot gives up",
    );
  });
});

Deno.test("UDP load: every datagram's echo verified; loss, duplicates and reordering counted", async () => {
  {
    await using server = await startServer(["--udp", "--no-tcp", "--quiet"]);
    const report = await runLoad({
      endpoint: loopback(server.port),
      udp: true,
      connections: 4,
      size: 100,
      count: 200,
      timeout: 500,
    });
    assert.equal(report.completed, 200);
    assert.deepEqual(report.udp, {
      sent: 200,
      lost: 0,
      duplicates: 0,
      reordered: 0,
    });
    assert.equal(report.errors + report.mismatches, 0);
  }
  await using lossy = await startServer([
    "--udp",
    "--no-tcp",
    "--quiet",
    "--udp-drop",
    "0.3",
    "--udp-duplicate",
    "0.3",
    "--fault-seed",
    "5",
  ]);
  const report = await runLoad({
    endpoint: loopback(lossy.port),
    udp: true,
    connections: 4,
    size: 64,
    count: 200,
    timeout: 100,
  });
  const udp = report.udp;
  assert.ok(udp !== undefined);
  assert.equal(udp.sent, 200);
  assert.equal(report.completed + udp.lost, 200);
  assert.ok(udp.lost >= 30 && udp.lost <= 90, `${udp.lost} lost`);
  assert.ok(udp.duplicates >= 15, `${udp.duplicates} duplicates`);
  assert.equal(report.errorsByCause.timeout, udp.lost);
  assert.equal(report.mismatches, 0);
});

Deno.test("with banner, each connection's banner is read first and counted per backend; merged reports add the counts", async () => {
  const serve = (pod: string) =>
    startEchoServer({
      banner: { template: parseBannerTemplate("{pod}"), host: { pod } },
    });
  await using a = serve("echo-a");
  await using b = serve("echo-b");
  const load = (port: number) =>
    runLoad({
      endpoint: loopback(port),
      banner: true,
      count: 20,
      messagesPerConnection: 5,
    });
  const [fromA, fromB] = [await load(a.port), await load(b.port)];
  assert.equal(fromA.errors + fromA.mismatches, 0, fromA.errorSamples.join());
  assert.deepEqual(fromA.backends, { "echo-a": 4 });
  const merged = mergeLoadReports([
    reportFromJson(JSON.parse(JSON.stringify(reportToJson(fromA)))),
    fromB,
    fromA,
  ]);
  assert.deepEqual(Object.entries(merged.backends ?? {}), [
    ["echo-a", 8],
    ["echo-b", 4],
  ]);
});

Deno.test("a server without a banner fails each banner connection with a timeout, counted and replaced", async () => {
  await using server = startEchoServer();
  const report = await runLoad({
    endpoint: loopback(server.port),
    banner: true,
    duration: 300,
    timeout: 100,
  });
  assert.equal(report.completed, 0);
  assert.ok(report.errorsByCause.timeout >= 1, JSON.stringify(report));
  assert.match(report.errorSamples[0] ?? "", /No banner line within/);
});

Deno.test("backend names read back from a report file are made printable and short, and a bad count is refused", async () => {
  await using server = startEchoServer();
  const report = reportToJson(
    await runLoad({ endpoint: loopback(server.port), count: 1 }),
  );
  const withBackends = (backends: unknown) =>
    JSON.parse(JSON.stringify({ ...report, backends }));
  const read = reportFromJson(
    withBackends({ "\u001b[31mred": 2, ["z".repeat(1_000)]: 1 }),
  );
  assert.deepEqual(
    Object.keys(read.backends ?? {}).map((name) => name.length),
    [8, 253],
  );
  assert.equal(Object.keys(read.backends ?? {})[0], "?[31mred");
  assert.throws(
    () => reportFromJson(withBackends({ a: "many" })),
    /Field "backends.a": expected a count/,
  );
});
