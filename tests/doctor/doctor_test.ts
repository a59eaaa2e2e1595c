import assert from "node:assert/strict";
import { runDoctor } from "../../lib/doctor/mod.ts";
import {
  CLIENT_SCRIPT,
  FILE_PERMISSIONS,
  freePort,
  loopback,
  requireTool,
  runScript,
  startCorruptingServer,
  startServer,
  withTempDir,
} from "../_helpers.ts";

Deno.test("doctor against our server: every check passes, JSON for scripts, exit 0", async () => {
  await using server = await startServer(["--udp", "--quiet"]);
  const result = await runScript(CLIENT_SCRIPT, [
    "doctor",
    "--port",
    String(server.port),
    "--idle-max",
    "1s",
    "--concurrency",
    "20",
    "--udp",
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(new TextDecoder().decode(result.stdout));
  assert.equal(report.ok, true);
  assert.deepEqual(report.checks.map((c: { name: string }) => c.name), [
    "connect",
    "integrity 1 B",
    "integrity 64.0 KiB",
    "integrity 16.0 MiB",
    "half-close",
    "idle",
    "concurrency",
    "udp",
  ]);
  for (const check of report.checks) assert.ok(check.limit_ms > 0);
});

Deno.test("doctor through HAProxy with 'timeout client 3s': the idle check says the path closes idle connections after about 3 s", async () => {
  await requireTool("haproxy", ["-v"], "haproxy");
  await using server = await startServer(["--quiet"]);
  const port = freePort();
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/haproxy.cfg`,
    `defaults
  mode tcp
  timeout connect 5s
  timeout client 3s
  timeout server 1h
frontend echo
  bind 127.0.0.1:${port}
  default_backend echo
backend echo
  server echo1 127.0.0.1:${server.port}
`,
  );
  const haproxy = new Deno.Command("haproxy", {
    args: ["-f", `${dir}/haproxy.cfg`, "-db"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (let attempt = 0;; attempt++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch (error) {
        if (attempt === 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25)); // no ready signal
      }
    }
    const report = await runDoctor({
      endpoint: loopback(port),
      idleMax: 6_000,
      concurrency: 10,
    });
    const idle = report.checks.find((check) => check.name === "idle");
    assert.equal(idle?.ok, false);
    assert.match(
      idle?.finding ?? "",
      /^closed by the path after about 3\.\d+ s idle$/,
    );
    const closed = Number(idle?.details?.closed_after_ms);
    assert.ok(closed > 2_500 && closed < 4_500, `${closed} ms`);
    assert.ok(
      report.checks.filter((check) => check.name !== "idle").every((c) => c.ok),
      JSON.stringify(report.checks),
    );
  } finally {
    haproxy.kill("SIGTERM");
    await haproxy.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("doctor through a relay that closes both ways at the client's FIN: the half-close check fails, saying so", async () => {
  await using server = await startServer(["--quiet"]);
  // A relay as some middle boxes are: at the first EOF, everything closes.
  using relay = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const relaying = (async () => {
    const tasks: Promise<void>[] = [];
    for await (const client of relay) {
      tasks.push((async () => {
        const upstream = await Deno.connect({
          hostname: "127.0.0.1",
          port: server.port,
        });
        const close = () => {
          try {
            client.close();
          } catch { /* closed */ }
          try {
            upstream.close();
          } catch { /* closed */ }
        };
        await Promise.all([
          client.readable.pipeTo(upstream.writable, { preventClose: true })
            .catch(() => {}).finally(close),
          upstream.readable.pipeTo(client.writable, { preventClose: true })
            .catch(() => {}).finally(close),
        ]);
      })());
    }
    await Promise.all(tasks);
  })();
  const report = await runDoctor({
    endpoint: loopback(relay.addr.port),
    idleMax: 1_000,
    concurrency: 5,
  });
  relay.close();
  await relaying;
  const halfClose = report.checks.find((check) => check.name === "half-close");
  assert.equal(halfClose?.ok, false);
  assert.match(
    halfClose?.finding ?? "",
    /^the path does not carry a half-close: the connection ended after \d+ of 65536 bytes came back$/,
  );
  assert.equal(report.ok, false);
  assert.ok(
    report.checks.filter((c) => c.name !== "half-close").every((c) => c.ok),
    JSON.stringify(report.checks),
  );
});

Deno.test("doctor --tls: handshake time, TLS version, the certificate's expiry and ALPN", async () => {
  await withTempDir(async (dir) => {
    await using server = await startServer(
      ["--tls", "--tls-cert-out", `${dir}/cert.pem`, "--alpn", "h2", "--quiet"],
      { permissions: FILE_PERMISSIONS },
    );
    const report = await runDoctor({
      endpoint: loopback(server.port),
      tls: {
        caCerts: [await Deno.readTextFile(`${dir}/cert.pem`)],
        alpnProtocols: ["h2"],
      },
      idleMax: 500,
      concurrency: 5,
    });
    assert.equal(report.ok, true, JSON.stringify(report.checks));
    const tls = report.checks.find((check) => check.name === "tls");
    assert.equal(tls?.details?.protocol, "TLSv1.3");
    assert.equal(tls?.details?.alpn, "h2");
    // The generated certificate is valid for 24 h: less than 14 days left.
    assert.match(
      tls?.finding ?? "",
      /certificate valid until \d{4}-\d\d-\d\d \(\d\.\d days: renew it soon\), ALPN h2$/,
    );
  });
});

Deno.test("doctor against a server that alters the echo: the integrity checks fail and the run ends", async () => {
  await using server = startCorruptingServer(100);
  const report = await runDoctor({
    endpoint: loopback(server.port),
    idleMax: 500,
    concurrency: 3,
    timeout: 3_000,
  });
  const integrity = report.checks.filter((c) => c.name.startsWith("integrity"));
  assert.deepEqual(integrity.map((c) => c.ok), [true, false, false]);
  assert.match(integrity[2]?.finding ?? "", /altered/);
});
