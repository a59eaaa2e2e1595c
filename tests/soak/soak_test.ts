import assert from "node:assert/strict";
import { Logger } from "../../lib/log/mod.ts";
import { type Endpoint, listenTls } from "../../lib/net/mod.ts";
import { serveEcho } from "../../lib/server/mod.ts";
import {
  DEFAULT_SOAK_MIX,
  fakeProxySources,
  formatSoakReport,
  type ProbeTally,
  probeTimes,
  runSoak,
  type ServerObservation,
  type SoakMix,
  soakPassed,
  type SoakTally,
  soakToJson,
} from "../../lib/soak/mod.ts";
import { generateSelfSigned } from "../../lib/tls/mod.ts";
import { startEchoServer, startServer } from "../_helpers.ts";

/** The soak's trusted proxy, as tools/soak.ts uses it. */
const TRUSTED_PROXY = "127.0.0.2";

const at = (port: number): Extract<Endpoint, { transport: "tcp" }> => ({
  transport: "tcp" as const,
  hostname: "127.0.0.1",
  port,
});

const server: ServerObservation = {
  peakRssBytes: 1,
  peakDescriptors: 1,
  bufferPeakBytes: 0,
  bufferBudgetBytes: 1,
  acceptErrors: 0,
  refused: 0,
  exitCode: 0,
};

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, each]) => [
    key,
    ...keysOf(each),
  ]);
}

Deno.test("probe times give the nearest-rank 99th percentile and the worst", () => {
  const times = Array.from({ length: 200 }, (_, i) => i + 1);
  assert.deepEqual(probeTimes(times), { p99: 198, max: 200 });
  assert.deepEqual(probeTimes([]), { p99: 0, max: 0 });
});

Deno.test("the soak's JSON has snake_case keys only, and an echoed fake PROXY source fails the run", () => {
  const probe: ProbeTally = {
    ok: 5,
    failed: 0,
    times: [1, 2],
    bytesLost: 0,
    errors: [],
  };
  const tally: SoakTally = {
    tcpProbe: probe,
    proxiedProbe: probe,
    tlsProbe: probe,
    healthProbe: probe,
    peers: DEFAULT_SOAK_MIX,
    fakeProxyEchoed: 0,
    durationMs: 1_000,
  };
  const servers = { tcp: server, tls: server };
  const json = soakToJson(tally, servers);
  const keys = keysOf(json);
  assert.deepEqual(keys.filter((key) => !/^[a-z0-9_]+$/.test(key)), []);
  assert.deepEqual(Object.keys(json.hostile_connections as object), [
    "reset_storm",
    "non_readers",
    "slow_tricklers",
    "silent_tls",
    "garbage",
    "churn",
    "fake_proxy_sources",
    "pending_headers",
    "idle_admin",
    "trickling_admin",
  ]);
  assert.equal(json.passed, true);

  const forged = { ...tally, fakeProxyEchoed: 1 };
  assert.equal(soakPassed(forged, servers), false);
  assert.equal(soakToJson(forged, servers).fake_proxy_sources_echoed, 1);
  assert.match(formatSoakReport(forged, servers), /got an echo: 1 of 8 \(FAIL/);
  const unhealthy = { ...tally, healthProbe: { ...probe, failed: 1 } };
  assert.equal(soakPassed(unhealthy, servers), false);
});

Deno.test("fake PROXY sources count the echo of a server that believes anyone", async () => {
  // A server without --proxy-protocol echoes the forged header back: the
  // count that must stay 0 in a soak is not 0 by construction.
  await using tcp = startEchoServer();
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 500);
  const tally = await fakeProxySources({
    endpoint: at(tcp.port),
    count: 1,
    signal: stop.signal,
  });
  clearTimeout(timer);
  assert.ok(tally.connections > 0);
  assert.equal(tally.echoed, tally.connections);
});

Deno.test("a short soak with every kind of hostile peer keeps all four probes served against a PROXY-protocol server with an admin endpoint, and forged headers get no echo", async () => {
  await using tcp = await startServer([
    "--quiet",
    "--proxy-protocol",
    "--proxy-optional",
    "--proxy-from",
    TRUSTED_PROXY,
    "--admin-port",
    "0",
  ]);
  const adminLine = await tcp.stdout.waitFor(/^admin listening on /);
  const adminPort = Number(/:(\d+)$/.exec(adminLine)?.[1]);
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
    limits: { handshakeTimeout: 300 },
    logger: new Logger({ write: () => {} }),
  });
  try {
    const mix: SoakMix = {
      resetStorm: 1,
      nonReaders: 2,
      slowTricklers: 2,
      silentTls: 5,
      garbage: 1,
      churn: 1,
      fakeProxySources: 2,
      pendingHeaders: 5,
      idleAdmin: 20,
      tricklingAdmin: 2,
    };
    const tally = await runSoak({
      tcp: at(tcp.port),
      tls: {
        endpoint: at((listener.addr as Deno.NetAddr).port),
        client: { caCerts: [cert] },
      },
      admin: at(adminPort),
      trustedProxy: TRUSTED_PROXY,
      duration: 2_500,
      mix,
    });
    for (const [kind, connections] of Object.entries(tally.peers)) {
      assert.ok(connections > 0, `${kind} opened connections`);
    }
    assert.equal(tally.fakeProxyEchoed, 0, "forged PROXY headers echoed");
    const probes = {
      tcp: tally.tcpProbe,
      proxied: tally.proxiedProbe,
      tls: tally.tlsProbe,
      health: tally.healthProbe,
    };
    for (const [name, probe] of Object.entries(probes)) {
      assert.ok(probe !== undefined, `${name} probe ran`);
      assert.ok(probe.ok > 0, `${name} probe answered`);
      assert.equal(probe.failed, 0, `${name}: ${probe.errors.join("; ")}`);
      assert.equal(probe.bytesLost, 0, `${name} lost no byte`);
    }

    tcp.process.kill("SIGTERM");
    const { code } = await tcp.process.status;
    const observed = { tcp: { ...server, exitCode: code }, tls: server };
    assert.equal(soakPassed(tally, observed), true);
    const report = formatSoakReport(tally, observed);
    assert.match(report, /\| bytes lost \| 0 \| 0 \| 0 \| - \|/);
    assert.match(report, /fake PROXY sources that got an echo: 0 of \d+/);
  } finally {
    stop.abort();
    await tlsDone;
  }
});
