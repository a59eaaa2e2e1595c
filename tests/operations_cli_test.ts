/**
 * The operations features against the real components a user puts next
 * to the server: HAProxy in front (PROXY protocol v1 and v2), Prometheus'
 * promtool on /metrics, readiness during a drain. A missing tool fails the
 * test and names its Debian package.
 */

import assert from "node:assert/strict";
import { PROXY_V2_SIGNATURE } from "../lib/proxy/mod.ts";
import {
  bytesEqual,
  connect,
  echoFrom,
  FILE_PERMISSIONS,
  freePort,
  randomBytes,
  readToEnd,
  requireTool,
  roundTrip,
  runClient,
  startHaproxy,
  startServer,
} from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One HTTP GET to the admin endpoint: status line and body. */
async function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`));
  const response = decoder.decode(await readToEnd(conn));
  const [head = "", body = ""] = response.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), body };
}

function adminPort(lines: string[]): number {
  const line = lines.find((each) => each.startsWith("admin listening on "));
  return Number(/:(\d+)$/.exec(line ?? "")?.[1]);
}

Deno.test("promtool accepts /metrics, and the byte counter equals the bytes echoed", async () => {
  await requireTool("promtool", ["--version"], "prometheus");
  await using server = await startServer([
    "--admin-port",
    "0",
    "--udp",
    "--max-connections-per-ip",
    "8",
    "--log-format",
    "json",
  ]);
  await server.stdout.waitFor(/^admin listening on /);
  const admin = adminPort(server.stdout.lines);
  let sent = 0;
  for (const size of [1, 1000, 65_536, 1_000_000]) {
    using conn = await connect(server.port);
    const data = randomBytes(size);
    assert.ok(bytesEqual(await roundTrip(conn, data), data));
    sent += size;
  }
  await server.stderr.waitFor(/"conn":4,.*"reason":"eof"/);
  const { status, body } = await httpGet(admin, "/metrics");
  assert.equal(status, 200);
  const check = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = check.stdin.getWriter();
  await writer.write(encoder.encode(body));
  await writer.close();
  const result = await check.output();
  assert.ok(
    result.success,
    `promtool: ${decoder.decode(result.stdout)}${
      decoder.decode(result.stderr)
    }`,
  );
  assert.match(body, new RegExp(`^echo_bytes_echoed_total ${sent}$`, "m"));
  assert.match(body, /^echo_connections_accepted_total 4$/m);
  assert.match(body, /^echo_connection_duration_seconds_count 4$/m);
  assert.match(body, /^echo_udp_datagrams_total 0$/m);
  assert.match(body, /^echo_per_ip_uncounted_total 0$/m);
  assert.match(body, /^process_resident_memory_bytes \d+$/m);
});

Deno.test("/readyz turns 503 when the drain begins while /healthz stays 200, and the process exits 0 when the drain ends", async () => {
  await using server = await startServer([
    "--admin-port",
    "0",
    "--drain-timeout",
    "30s",
  ]);
  await server.stdout.waitFor(/^admin listening on /);
  const admin = adminPort(server.stdout.lines);
  assert.equal((await httpGet(admin, "/readyz")).status, 200);
  using held = await connect(server.port);
  await held.write(Uint8Array.of(1));
  assert.equal(await held.read(new Uint8Array(1)), 1);
  server.process.kill("SIGTERM");
  await server.stderr.waitFor(/ shutdown signal=SIGTERM /);
  assert.equal((await httpGet(admin, "/readyz")).status, 503);
  assert.equal((await httpGet(admin, "/healthz")).status, 200);
  await held.closeWrite();
  await readToEnd(held);
  assert.equal((await server.process.status).code, 0);
});

Deno.test("behind HAProxy (send-proxy and send-proxy-v2) clients appear under their own addresses, the allow list admits one and denies another, and a client that skips the proxy is refused", async () => {
  await using server = await startServer([
    "--proxy-protocol",
    "--allow",
    "127.0.0.5",
    "--log-format",
    "json",
  ]);
  const [v1, v2] = [freePort(), freePort()];
  await using _haproxy = await startHaproxy(
    `frontend v1
  bind 127.0.0.1:${v1}
  default_backend echo_v1
frontend v2
  bind 127.0.0.1:${v2}
  default_backend echo_v2
backend echo_v1
  server echo 127.0.0.1:${server.port} send-proxy
backend echo_v2
  server echo 127.0.0.1:${server.port} send-proxy-v2
`,
    [v1, v2],
  );
  {
    const hello = encoder.encode("hello\n");
    assert.deepEqual(await echoFrom(v1, "127.0.0.5", hello), hello);
    assert.deepEqual(await echoFrom(v2, "127.0.0.5", hello), hello);
    const big = randomBytes(1024 * 1024);
    assert.ok(
      bytesEqual(await echoFrom(v2, "127.0.0.5", big), big),
      "1 MiB through HAProxy",
    );
    assert.equal((await echoFrom(v1, "127.0.0.6", hello)).length, 0);
    assert.equal((await echoFrom(v2, "127.0.0.6", hello)).length, 0);
    assert.equal((await echoFrom(server.port, "127.0.0.5", hello)).length, 0);
    // Refusals are logged at most once a second per reason, the rest as
    // "repeated": wait for the lines about these clients.
    await server.stderr.waitFor(/"reason":"denied".*"client":"127\.0\.0\.6"/);
    const skipped = JSON.parse(
      await server.stderr.waitFor(/"reason":"proxy-protocol"/),
    );
    assert.match(
      skipped.peer,
      /^127\.0\.0\.5:\d+$/,
      "logged with the peer's address",
    );
    assert.match(skipped.error, /no PROXY header|closed before/);
    const opens = server.stderr.lines.filter((line) =>
      line.includes('"event":"open"')
    )
      .map((line) => JSON.parse(line).peer);
    assert.equal(opens.length, 3);
    assert.ok(
      opens.every((peer: string) => /^127\.0\.0\.5:\d+$/.test(peer)),
      opens.join(),
    );
  }
});

Deno.test("echo-client --send-proxy v1 and v2 are accepted by a --proxy-protocol server, which sees the client's own address", async () => {
  await using server = await startServer([
    "--proxy-protocol",
    "--log-format",
    "json",
  ]);
  for (const version of ["v1", "v2"]) {
    const result = await runClient([
      "--port",
      String(server.port),
      "--send-proxy",
      version,
      "hi",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(decoder.decode(result.stdout), "hi\n");
  }
  const bench = await runClient([
    "bench",
    "--port",
    String(server.port),
    "--send-proxy",
    "v2",
    "--count",
    "50",
    "--json",
  ]);
  assert.equal(bench.code, 0, bench.stderr);
  assert.equal(server.stderr.count(/"event":"refused"/), 0);
});

Deno.test("fuzz: garbage, truncated and oversized PROXY headers get nothing echoed, and the server keeps serving", async () => {
  await using server = await startServer([
    "--proxy-protocol",
    "--handshake-timeout",
    "300ms",
    "--quiet",
  ]);
  const header = encoder.encode("PROXY TCP4 10.0.0.1 10.0.0.2 1000 7007\r\n");
  const v2 = Uint8Array.of(...PROXY_V2_SIGNATURE, 0x21, 0x11, 0xff, 0xff);
  const inputs: Uint8Array[] = [
    v2, // claims 64 KiB of addresses: oversized
    header.subarray(0, 20), // truncated, then the client half-closes
    encoder.encode("GET / HTTP/1.1\r\n\r\n"),
    ...Array.from({ length: 100 }, (_, i) => randomBytes(1 + (i * 37) % 700)),
  ];
  for (const input of inputs) {
    using conn = await connect(server.port);
    await conn.write(input).catch(() => 0);
    await conn.closeWrite().catch(() => {});
    const echoed = await readToEnd(conn).catch(() => new Uint8Array());
    assert.equal(echoed.length, 0, `echoed ${echoed.length} bytes`);
  }
  // A proper header, then data in the same write: the data is echoed.
  using good = await connect(server.port);
  const data = randomBytes(4096);
  const echo = roundTrip(good, Uint8Array.of(...header, ...data));
  assert.ok(bytesEqual(await echo, data));
});

/**
 * A `--tls --proxy-protocol` server with a generated certificate, and a
 * TLS client of it that trusts that certificate.
 */
async function startTlsProxyServer(
  extraArgs: string[],
): Promise<
  Awaited<ReturnType<typeof startServer>> & {
    client(args: string[]): ReturnType<typeof runClient>;
  }
> {
  const dir = await Deno.makeTempDir();
  const certFile = `${dir}/cert.pem`;
  const server = await startServer([
    "--tls",
    "--tls-cert-out",
    certFile,
    "--proxy-protocol",
    "--log-format",
    "json",
    ...extraArgs,
  ], { permissions: FILE_PERMISSIONS });
  return {
    ...server,
    client: (args: string[]) =>
      runClient(
        ["--port", String(server.port), "--tls", "--ca", certFile, ...args],
        undefined,
        FILE_PERMISSIONS,
      ),
    async [Symbol.asyncDispose](): Promise<void> {
      await server[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("PROXY with TLS: the header comes before the handshake, as a load balancer in TCP mode sends it", async () => {
  await using server = await startTlsProxyServer([]);
  for (const version of ["v1", "v2"]) {
    const result = await server.client(["--send-proxy", version, "over tls"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(decoder.decode(result.stdout), "over tls\n");
  }
  // A header and garbage in one packet: the handshake fails at once, for
  // that connection only (it used to kill the serving thread). Twice with
  // a v1 header (the garbage arrives with it), and once with a v2 header
  // of the longest size read, so that the garbage is still queued on the
  // socket when TLS starts.
  const garbage = encoder.encode("GET / HTTP/1.1\r\n\r\n");
  const v1 = encoder.encode("PROXY TCP4 192.0.2.1 192.0.2.2 1000 7007\r\n");
  const v2 = new Uint8Array(1076);
  v2.set(PROXY_V2_SIGNATURE);
  v2.set([0x21, 0x11, (1076 - 16) >> 8, (1076 - 16) & 0xff, 192, 0, 2, 1], 12);
  for (const header of [v1, v1, v2]) {
    using conn = await connect(server.port);
    await conn.write(Uint8Array.of(...header, ...garbage));
    await readToEnd(conn).catch(() => new Uint8Array());
  }
  await server.stderr.waitFor(/"reason":"tls-handshake"/);
  const after = await server.client(["--send-proxy", "v1", "still serving"]);
  assert.equal(after.code, 0, after.stderr);
  // Without a header, a trusted (loopback) client is refused.
  const bare = await server.client(["--timeout", "5s", "hi"]);
  assert.notEqual(bare.code, 0);
  await server.stderr.waitFor(/"reason":"proxy-protocol"/);
  assert.equal(server.stderr.count(/"event":"open"/), 6);
});

Deno.test("PROXY with TLS: a client that is not a trusted proxy is served TLS under its own address", async () => {
  await using server = await startTlsProxyServer(["--proxy-from", "127.0.0.2"]);
  const result = await server.client(["direct"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decoder.decode(result.stdout), "direct\n");
  const open = JSON.parse(await server.stderr.waitFor(/"event":"open"/));
  assert.match(open.peer, /^127\.0\.0\.1:\d+$/);
});

Deno.test("the README's HAProxy snippet passes haproxy -c without a warning", async () => {
  await requireTool("haproxy", ["-v"], "haproxy");
  const readme = await Deno.readTextFile(
    new URL("../README.md", import.meta.url),
  );
  const snippet = /```text\n# haproxy\.cfg\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(snippet !== undefined, "the README has a haproxy.cfg snippet");
  const config = await Deno.makeTempFile({ suffix: ".cfg" });
  try {
    await Deno.writeTextFile(config, snippet);
    const result = await new Deno.Command("haproxy", {
      args: ["-c", "-f", config],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = decoder.decode(result.stdout) + decoder.decode(result.stderr);
    assert.ok(result.success, said);
    assert.doesNotMatch(said, /WARNING|ALERT/, said);
  } finally {
    await Deno.remove(config);
  }
});
