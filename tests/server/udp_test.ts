import assert from "node:assert/strict";
import { SourceRateLimiter } from "../../lib/server/_source_rate_limiter.ts";
import { DatagramReceiver, udpEcho } from "../../lib/client/mod.ts";
import { serveUdpEcho, type UdpSummary } from "../../lib/server/mod.ts";
import { EchoMismatchError, TimeoutError } from "../../lib/net/mod.ts";
import {
  bytesEqual,
  memoryLogger,
  randomBytes,
  runClient,
  startServer,
} from "../_helpers.ts";
import type { LineCollector } from "../_helpers.ts";

interface UdpTestServer extends AsyncDisposable {
  port: number;
  log: LineCollector;
  done: Promise<UdpSummary>;
}

function startUdpServer(
  options: { rate?: number; maxDatagramSize?: number } = {},
): UdpTestServer {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const { logger, log } = memoryLogger();
  const stop = new AbortController();
  const done = serveUdpEcho(socket, {
    ...options,
    logger,
    signal: stop.signal,
  });
  return {
    port: (socket.addr as Deno.NetAddr).port,
    log,
    done,
    async [Symbol.asyncDispose](): Promise<void> {
      stop.abort();
      await done;
    },
  };
}

function clientSocket(hostname = "127.0.0.1"): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
}

Deno.test("UDP echo returns each datagram whole at the edge sizes, to concurrent clients", async () => {
  await using server = startUdpServer();
  const sizes = [0, 1, 1_472, 8_192, 65_507];
  await Promise.all(sizes.map(async (size) => {
    const socket = clientSocket();
    try {
      const data = randomBytes(size);
      await socket.send(data, {
        transport: "udp",
        hostname: "127.0.0.1",
        port: server.port,
      });
      const [echo] = await socket.receive(new Uint8Array(70_000));
      assert.equal(echo.length, size);
      assert.ok(bytesEqual(echo, data));
    } finally {
      socket.close();
    }
  }));
});

Deno.test("UDP echo drops, counts and logs a datagram longer than the limit instead of cutting it", async () => {
  const server = startUdpServer({ maxDatagramSize: 100 });
  const socket = clientSocket();
  const to = {
    transport: "udp",
    hostname: "127.0.0.1",
    port: server.port,
  } as const;
  try {
    await socket.send(randomBytes(101), to);
    const small = randomBytes(100);
    await socket.send(small, to);
    // Datagrams are handled in order: the first reply is the small one's.
    const [echo] = await socket.receive(new Uint8Array(200));
    assert.ok(bytesEqual(echo, small));
  } finally {
    socket.close();
    await server[Symbol.asyncDispose]();
  }
  const summary = await server.done;
  assert.equal(summary.oversized, 1);
  assert.equal(summary.datagrams, 1);
  const logged = JSON.parse(server.log.lines[0] ?? "{}");
  assert.equal(logged.event, "udp-oversized");
  assert.equal(logged.max_bytes, 100);
  assert.match(logged.peer, /^127\.0\.0\.1:\d+$/);
});

Deno.test("UDP echo answers at most --udp-rate datagrams per second per source address", async () => {
  const server = startUdpServer({ rate: 5 });
  const flooder = clientSocket("127.0.0.1");
  const other = clientSocket("127.0.0.2");
  const to = {
    transport: "udp",
    hostname: "127.0.0.1",
    port: server.port,
  } as const;
  try {
    for (let i = 0; i < 10; i++) await flooder.send(Uint8Array.of(i), to);
    // Another source has its own budget; its echo also proves the server has
    // handled all ten datagrams sent before it.
    await other.send(Uint8Array.of(99), to);
    const [marker] = await other.receive(new Uint8Array(8));
    assert.deepEqual(Array.from(marker), [99]);
    const echoed: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [echo] = await flooder.receive(new Uint8Array(8));
      echoed.push(echo[0] ?? -1);
    }
    assert.deepEqual(echoed, [0, 1, 2, 3, 4]);
  } finally {
    flooder.close();
    other.close();
    await server[Symbol.asyncDispose]();
  }
  const summary = await server.done;
  assert.equal(summary.datagrams, 6);
  assert.equal(summary.rateLimited, 5);
  assert.equal(
    server.log.count(
      /"event":"udp-rate-limited","source":"127\.0\.0\.1","limit_per_s":5\}$/,
    ),
    1,
  );
});

Deno.test("SourceRateLimiter refills over time and forgets idle sources", () => {
  let now = 0;
  const limiter = new SourceRateLimiter(10, () => now);
  const allowed = Array.from({ length: 12 }, () => limiter.allow("a")).filter(
    Boolean,
  );
  assert.equal(allowed.length, 10);
  assert.equal(limiter.firstDropThisSecond("a"), true);
  assert.equal(limiter.firstDropThisSecond("a"), false);
  now = 100; // 0.1 s at 10/s: one more token
  assert.equal(limiter.allow("a"), true);
  assert.equal(limiter.allow("a"), false);
  assert.equal(limiter.allow("b"), true);
  assert.equal(new SourceRateLimiter(Infinity).allow("a"), true);
});

Deno.test("udpEcho resends a lost datagram and reports the attempts", async () => {
  // A server that drops the first datagram it gets and echoes the rest.
  const lossy = clientSocket();
  const port = (lossy.addr as Deno.NetAddr).port;
  const serving = (async () => {
    await lossy.receive(new Uint8Array(64)); // dropped
    const [data, from] = await lossy.receive(new Uint8Array(64));
    await lossy.send(data, from);
  })();
  try {
    const result = await udpEcho(
      { hostname: "127.0.0.1", port },
      new TextEncoder().encode("again"),
      { timeout: 200, retries: 2 },
    );
    assert.equal(result.attempts, 2);
    assert.equal(new TextDecoder().decode(result.echo), "again");
  } finally {
    await serving;
    lossy.close();
  }
});

Deno.test("udpEcho reports altered bytes as a mismatch and silence as a timeout", async () => {
  const altering = clientSocket();
  const port = (altering.addr as Deno.NetAddr).port;
  const serving = (async () => {
    const [data, from] = await altering.receive(new Uint8Array(64));
    await altering.send(data.map((byte) => byte ^ 1), from);
  })();
  try {
    await assert.rejects(
      udpEcho({ hostname: "127.0.0.1", port }, Uint8Array.of(1, 2, 3), {
        timeout: 1_000,
      }),
      (error: unknown) =>
        error instanceof EchoMismatchError &&
        /got 3 back with other content/.test(error.message),
    );
    await serving;
    await assert.rejects(
      udpEcho({ hostname: "127.0.0.1", port }, Uint8Array.of(1), {
        timeout: 30,
        retries: 1,
      }),
      (error: unknown) =>
        error instanceof TimeoutError &&
        /after 2 attempts of 30\.0 ms each$/.test(error.message),
    );
  } finally {
    altering.close();
  }
});

Deno.test("DatagramReceiver ignores datagrams from other addresses", async () => {
  const socket = clientSocket();
  const server = clientSocket();
  const stranger = clientSocket("127.0.0.2");
  const to = socket.addr as Deno.NetAddr;
  const receiver = new DatagramReceiver(socket, {
    hostname: "127.0.0.1",
    port: (server.addr as Deno.NetAddr).port,
  });
  try {
    await stranger.send(Uint8Array.of(1), to);
    await server.send(Uint8Array.of(2), to);
    assert.deepEqual(Array.from(await receiver.next(1_000) ?? []), [2]);
  } finally {
    receiver.cancel();
    socket.close();
    server.close();
    stranger.close();
  }
});

Deno.test("echo-client --udp round-trips through echo-server --udp --no-tcp, and refuses an oversized datagram", async () => {
  await using server = await startServer(["--udp", "--no-tcp"]);
  assert.match(server.address, /^udp 127\.0\.0\.1:\d+$/);
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: server.port }),
    Deno.errors.ConnectionRefused,
  );
  const ok = await runClient([
    "--udp",
    "--port",
    String(server.port),
    "hi",
    "udp",
  ]);
  assert.equal(ok.code, 0);
  assert.equal(new TextDecoder().decode(ok.stdout), "hi udp\n");

  const data = randomBytes(65_507);
  const whole = await runClient(["--udp", "--port", String(server.port)], data);
  assert.equal(whole.code, 0);
  assert.ok(bytesEqual(whole.stdout, data));

  const tooBig = await runClient(
    ["--udp", "--port", String(server.port)],
    randomBytes(65_508),
  );
  assert.equal(tooBig.code, 2);
  assert.equal(
    tooBig.stderr,
    "error: Datagram of 65508 bytes is too large: UDP carries at most 65,507 bytes over IPv4 and 65,527 over IPv6\n",
  );
});

Deno.test("echo-server --udp serves TCP and UDP on the same port number", async () => {
  await using server = await startServer(["--udp"]);
  const tcpPort = server.port;
  const udpLine = await server.stdout.waitFor(/^listening on udp /);
  assert.equal(udpLine, `listening on udp 127.0.0.1:${tcpPort}`);
  const tcp = await runClient(["--port", String(tcpPort), "tcp"]);
  const udp = await runClient(["--udp", "--port", String(tcpPort), "udp"]);
  assert.equal(new TextDecoder().decode(tcp.stdout), "tcp\n");
  assert.equal(new TextDecoder().decode(udp.stdout), "udp\n");
});

Deno.test("a failed UDP receive is logged and the server keeps echoing", async () => {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  let failures = 1;
  // The real socket, except that its first receive fails as the kernel
  // can make it fail (out of buffers).
  const flaky = Object.assign(Object.create(socket), {
    receive: (buffer?: Uint8Array) => {
      if (failures-- > 0) {
        return Promise.reject(
          Object.assign(new Error("No buffer space available"), {
            code: "ENOBUFS",
          }),
        );
      }
      return socket.receive(buffer);
    },
    send: (data: Uint8Array, addr: Deno.Addr) => socket.send(data, addr),
    close: () => socket.close(),
  }) as Deno.DatagramConn;
  const { logger, log } = memoryLogger();
  const stop = new AbortController();
  const done = serveUdpEcho(flaky, { signal: stop.signal, logger });
  const client = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  try {
    const hello = new TextEncoder().encode("hello");
    await client.send(hello, socket.addr);
    const [echo] = await client.receive();
    assert.deepEqual(echo, hello);
    await log.waitFor(/"event":"udp-receive-error".*No buffer space/);
  } finally {
    client.close();
    stop.abort();
    await done;
  }
});
