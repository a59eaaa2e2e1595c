import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { connectWithTimeout, listenTls } from "../../lib/net/mod.ts";
import { serveEcho } from "../../lib/server/mod.ts";
import {
  CertificateError,
  type CertifiedKey,
  checkCertifiedKey,
  fingerprint,
  generateSelfSigned,
} from "../../lib/tls/mod.ts";
import {
  bytesEqual,
  FILE_PERMISSIONS,
  type LineCollector,
  loopback,
  memoryLogger,
  patternChunk,
  randomBytes,
  readToEnd,
  RssWatch,
  runClient,
  runServer,
  startServer,
  withTempDir,
} from "../_helpers.ts";

const decoder = new TextDecoder();

interface TlsTestServer extends AsyncDisposable {
  port: number;
  log: LineCollector;
}

/** Our echo server over TLS, in process, with `material`. */
async function startTlsServer(
  material: CertifiedKey,
  handshakeTimeout = 0,
): Promise<TlsTestServer> {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...material,
    alpnProtocols: ["echo"],
  });
  const { logger, log } = memoryLogger();
  const stop = new AbortController();
  const done = serveEcho(listener, {
    logger,
    signal: stop.signal,
    limits: { handshakeTimeout },
  });
  return {
    port: (listener.addr as Deno.NetAddr).port,
    log,
    async [Symbol.asyncDispose](): Promise<void> {
      stop.abort();
      await done;
    },
  };
}

Deno.test("TLS echo is byte-exact at the edge sizes, ends with close_notify, and serves clients at once", async () => {
  const material = await generateSelfSigned(["127.0.0.1"]);
  await using server = await startTlsServer(material);
  const sizes = [1, 16_384, 16_385, 1024 * 1024 + 7];
  await Promise.all(sizes.map(async (size) => {
    using conn = await connectWithTimeout(loopback(server.port), {
      tls: { caCerts: [material.cert], alpnProtocols: ["echo"] },
    });
    assert.equal(
      (await (conn as Deno.TlsConn).handshake()).alpnProtocol,
      "echo",
    );
    const data = randomBytes(size);
    const reading = readToEnd(conn);
    let written = 0;
    while (written < size) written += await conn.write(data.subarray(written));
    await conn.closeWrite(); // sends close_notify: the server sees EOF
    assert.ok(bytesEqual(await reading, data));
  }));
  await server.log.waitFor(/"reason":"eof"/, 0);
  assert.equal(server.log.count(/"event":"close".*"reason":"eof"/) >= 1, true);
});

Deno.test("generated certificates verify for their names only and report a stable SHA-256 fingerprint", async () => {
  const material = await generateSelfSigned(["localhost", "127.0.0.1", "::1"]);
  assert.match(
    await fingerprint(material.cert),
    /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/,
  );
  assert.equal(
    await fingerprint(material.cert),
    await fingerprint(material.cert),
  );
  await using server = await startTlsServer(material);
  for (const serverName of ["localhost", "127.0.0.1"]) {
    using conn = await connectWithTimeout(loopback(server.port), {
      tls: { caCerts: [material.cert], serverName },
    });
    assert.ok(conn);
  }
  await assert.rejects(
    connectWithTimeout(loopback(server.port), {
      tls: { caCerts: [material.cert], serverName: "example.com" },
    }),
    /name mismatch: the certificate is not valid for "example\.com"/,
  );
});

Deno.test("echo-client --tls fails verification with exit 9 and says why: unknown issuer, wrong name, expired", async () => {
  const expired = await generateSelfSigned(["127.0.0.1"], {
    notBefore: new Date(Date.now() - 3 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  await withTempDir(async (dir) => {
    await using server = await startServer(
      ["--tls", "--tls-cert-out", `${dir}/cert.pem`],
      { permissions: FILE_PERMISSIONS },
    );
    assert.match(server.address, /^tls 127\.0\.0\.1:\d+$/);
    const port = String(server.port);
    const ok = await runClient(
      ["--tls", "--ca", `${dir}/cert.pem`, "--port", port, "secure"],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(decoder.decode(ok.stdout), "secure\n");

    const unknown = await runClient(["--tls", "--port", port, "x"]);
    assert.equal(unknown.code, 9);
    assert.match(
      unknown.stderr,
      /^error: TLS verification failed for "127\.0\.0\.1:\d+": unknown issuer: trust the server's certificate or its CA with --ca FILE\n$/,
    );

    const wrongName = await runClient(
      [
        "--tls",
        "--ca",
        `${dir}/cert.pem`,
        "--servername",
        "example.com",
        "--port",
        port,
        "x",
      ],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(wrongName.code, 9);
    assert.match(
      wrongName.stderr,
      /name mismatch: the certificate is not valid for "example\.com"/,
    );

    await using old = await startTlsServer(expired);
    await Deno.writeTextFile(`${dir}/old.pem`, expired.cert);
    const stale = await runClient(
      ["--tls", "--ca", `${dir}/old.pem`, "--port", String(old.port), "x"],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(stale.code, 9);
    assert.match(stale.stderr, /: the certificate has expired\n$/);
  });
});

Deno.test("echo-server --alpn offers protocols and echo-client --verbose shows the one chosen", async () => {
  await withTempDir(async (dir) => {
    await using server = await startServer(
      ["--tls", "--tls-cert-out", `${dir}/cert.pem`, "--alpn", "echo,x"],
      { permissions: FILE_PERMISSIONS },
    );
    const result = await runClient(
      [
        "--tls",
        "--ca",
        `${dir}/cert.pem`,
        "--alpn",
        "x",
        "--verbose",
        "--port",
        String(server.port),
        "hi",
      ],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /^tls: handshake done, certificate verified, alpn=x$/m,
    );
  });
});

Deno.test("echo-server --tls-cert/--tls-key refuse a missing file, garbage PEM and a key of another certificate", async () => {
  const one = await generateSelfSigned(["127.0.0.1"]);
  const other = await generateSelfSigned(["127.0.0.1"]);
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/cert.pem`, one.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, one.key);
    await Deno.writeTextFile(`${dir}/other-key.pem`, other.key);
    await Deno.writeTextFile(`${dir}/junk.pem`, "not a certificate\n");
    await Deno.writeTextFile(
      `${dir}/empty-cert.pem`,
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    const cases: [string[], string][] = [
      [
        ["--tls-cert", `${dir}/absent.pem`, "--tls-key", `${dir}/key.pem`],
        `error: --tls-cert: Cannot read "${dir}/absent.pem": no such file\n`,
      ],
      [
        ["--tls-cert", `${dir}/junk.pem`, "--tls-key", `${dir}/key.pem`],
        `error: --tls-cert: "${dir}/junk.pem" is not a PEM file\n`,
      ],
      [
        ["--tls-cert", `${dir}/cert.pem`, "--tls-key", `${dir}/other-key.pem`],
        "error: --tls-key: The private key does not belong to the certificate\n",
      ],
      [
        ["--tls-cert", `${dir}/cert.pem`],
        "error: --tls-cert and --tls-key: give both (PEM files): see --help\n",
      ],
    ];
    for (const [args, stderr] of cases) {
      const result = await runServer(
        ["--port", "0", ...args],
        FILE_PERMISSIONS,
      );
      assert.equal(result.code, 2, args.join(" "));
      assert.equal(result.stderr, stderr);
    }
    await using server = await startServer(
      ["--tls-cert", `${dir}/cert.pem`, "--tls-key", `${dir}/key.pem`],
      { permissions: FILE_PERMISSIONS },
    );
    assert.match(
      await server.stdout.waitFor(/^tls certificate /),
      /^tls certificate sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/,
    );
  });
  assert.throws(
    () => checkCertifiedKey({ cert: one.cert, key: other.key }),
    (error: unknown) =>
      error instanceof CertificateError && error.part === "key",
  );
});

Deno.test("a plain client, random bytes or a silent peer on the TLS port end in a closed connection, not a stall", async () => {
  const material = await generateSelfSigned(["127.0.0.1"]);
  await using server = await startTlsServer(material, 200);
  // Random bytes: not a TLS record; the handshake fails at once.
  {
    using conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    await conn.write(randomBytes(64));
    await readToEnd(conn).catch(() => new Uint8Array());
  }
  await server.log.waitFor(/"conn":1,.*"reason":"tls-handshake"/);
  // Silent: the handshake deadline ends it.
  {
    using _silent = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    const closed = await server.log.waitFor(
      /"event":"close","conn":2,.*"reason":"tls-handshake"/,
    );
    assert.match(closed, /not finished within 200 ms/);
  }
  assert.equal(server.log.count(/"reason":"tls-handshake"/), 2);
  // Still serving TLS clients.
  using conn = await connectWithTimeout(loopback(server.port), {
    tls: { caCerts: [material.cert] },
  });
  await conn.write(Uint8Array.of(7));
  const echo = new Uint8Array(1);
  assert.equal(await conn.read(echo), 1);
  assert.deepEqual(Array.from(echo), [7]);
});

Deno.test("echo-client without --tls against a TLS port says the server answered with TLS, and writes no TLS bytes to stdout", async () => {
  const material = await generateSelfSigned(["127.0.0.1"]);
  await using server = await startTlsServer(material);
  const result = await runClient(["--port", String(server.port), "plain"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /\(the server answered with TLS: try --tls\)\n$/);
  assert.equal(result.stdout.length, 0, "the alert is not echo");
});

Deno.test("over TLS, a client that sends without reading is stalled with bounded server memory, then gets all 64 MiB back", async () => {
  const MiB = 1024 * 1024;
  await withTempDir(async (dir) => {
    await using server = await startServer(
      ["--tls", "--quiet", "--tls-cert-out", `${dir}/cert.pem`],
      { permissions: FILE_PERMISSIONS },
    );
    using memory = new RssWatch(server.process.pid);
    const baseline = memory.peak;
    using conn = await connectWithTimeout(loopback(server.port), {
      tls: { caCerts: [await Deno.readTextFile(`${dir}/cert.pem`)] },
    });
    const total = 64 * MiB;
    let sent = 0;
    const writing = (async () => {
      for (let offset = 0; offset < total; offset += MiB) {
        const chunk = patternChunk(5, offset, MiB);
        let written = 0;
        while (written < chunk.length) {
          written += await conn.write(chunk.subarray(written));
        }
        sent += chunk.length;
      }
      await conn.closeWrite();
    })();
    writing.catch(() => {}); // a failure surfaces at `await writing`

    // Read nothing: the server must stop reading once its writes back are
    // stuck, instead of decrypting and queueing what keeps coming.
    let last = -1;
    while (sent !== last) {
      last = sent;
      await new Promise((resolve) => setTimeout(resolve, 300)); // stall detection needs a time window
    }
    memory.sample();
    assert.ok(sent < 32 * MiB, `writer stalled only after ${sent} bytes`);
    const stalledGrowth = memory.peak - baseline;
    assert.ok(
      stalledGrowth < 32 * MiB,
      `RSS grew ${stalledGrowth} bytes while the client did not read`,
    );

    const echo = await readToEnd(conn);
    await writing;
    assert.equal(echo.length, total);
    assert.ok(bytesEqual(echo, patternChunk(5, 0, total)), "echo intact");
  });
});

Deno.test("a TLS error after the handshake (a plaintext alert record) closes the connection: the server does not go on reading and buffering", async () => {
  const material = await generateSelfSigned(["127.0.0.1"]);
  await using server = await startTlsServer(material, 10_000);
  const raw = net.connect(server.port, "127.0.0.1");
  raw.on("error", () => {});
  const secure = tls.connect({
    socket: raw,
    ca: material.cert,
    checkServerIdentity: () => undefined,
  });
  secure.on("error", () => {});
  // One echo first: the server's side of the handshake is done.
  await new Promise((resolve) => secure.once("secureConnect", resolve));
  secure.write("x");
  await new Promise((resolve) => secure.once("data", resolve));
  const closed = new Promise((resolve) => raw.once("close", resolve));
  raw.write(Uint8Array.of(21, 3, 3, 0, 2, 2, 40)); // an unencrypted alert
  const zeros = new Uint8Array(64 * 1024);
  let sent = 0;
  let open = true;
  closed.then(() => open = false);
  while (open && sent < 256 * 1024 * 1024) {
    const more = raw.write(zeros);
    sent += zeros.length;
    if (!more) {
      await Promise.race([
        new Promise((resolve) => raw.once("drain", resolve)),
        closed,
      ]);
    }
  }
  raw.destroy();
  assert.ok(!open, `still open after ${sent} bytes`);
  assert.ok(sent < 64 * 1024 * 1024, `the server took ${sent} bytes`);
  await server.log.waitFor(/"event":"close"/);
});
