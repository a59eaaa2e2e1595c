import assert from "node:assert/strict";
import { Logger } from "../../lib/log/mod.ts";
import { type Endpoint, listenTls } from "../../lib/net/mod.ts";
import { serveEcho } from "../../lib/server/mod.ts";
import {
  formatSoakReport,
  probeTimes,
  runSoak,
  soakPassed,
} from "../../lib/soak/mod.ts";
import { generateSelfSigned } from "../../lib/tls/mod.ts";
import { startEchoServer } from "../_helpers.ts";

const at = (port: number): Extract<Endpoint, { transport: "tcp" }> => ({
  transport: "tcp" as const,
  hostname: "127.0.0.1",
  port,
});

Deno.test("probe times give the nearest-rank 99th percentile and the worst", () => {
  const times = Array.from({ length: 200 }, (_, i) => i + 1);
  assert.deepEqual(probeTimes(times), { p99: 198, max: 200 });
  assert.deepEqual(probeTimes([]), { p99: 0, max: 0 });
});

Deno.test("a short soak with every kind of hostile peer keeps the probes served, with no byte lost", async () => {
  await using tcp = startEchoServer({ handshakeTimeout: 0 });
  const { cert, key } = await generateSelfSigned(["127.0.0.1"]);
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
  });
  const stop = new AbortController();
  const tlsDone = serveEcho(listener, {
    signal: stop.signal,
    handshakeTimeout: 300,
    logger: new Logger({ write: () => {} }),
  });
  try {
    const tally = await runSoak({
      tcp: at(tcp.port),
      tls: {
        endpoint: at((listener.addr as Deno.NetAddr).port),
        client: { caCerts: [cert] },
      },
      duration: 1_500,
      mix: {
        resetStorm: 1,
        nonReaders: 2,
        slowTricklers: 2,
        silentTls: 5,
        garbage: 1,
        churn: 1,
      },
    });
    for (const [kind, connections] of Object.entries(tally.peers)) {
      assert.ok(connections > 0, `${kind} opened connections`);
    }
    for (const probe of [tally.tcpProbe, tally.tlsProbe]) {
      assert.ok(probe.ok > 0);
      assert.equal(probe.failed, 0, probe.errors.join("; "));
      assert.equal(probe.bytesLost, 0);
    }
    const server = {
      peakRssBytes: 1,
      peakDescriptors: 1,
      bufferPeakBytes: 0,
      bufferBudgetBytes: 1,
      acceptErrors: 0,
      exitCode: 0,
    };
    const observed = { tcp: server, tls: server };
    assert.equal(soakPassed(tally, observed), true);
    assert.match(
      formatSoakReport(tally, observed),
      /\| bytes lost \| 0 \| 0 \|/,
    );
  } finally {
    stop.abort();
    await tlsDone;
  }
});
