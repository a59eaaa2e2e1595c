/**
 * Which backend answered (issue: in the fleet), end to end: the server's
 * `--banner` and `/info` under the tasks' permissions and under `-A`,
 * `echo-client --banner`, and `ping`/`bench --banner` counting how HAProxy
 * spreads connections over two backends.
 */

import assert from "node:assert/strict";
import {
  freePort,
  LineCollector,
  PROGRAM_PERMISSIONS,
  requireTool,
  runClient,
  runServer,
  SERVER_SCRIPT,
  type ServerProcess,
  startHaproxy,
  startServer,
  taskFlags,
} from "./_helpers.ts";

const decoder = new TextDecoder();

/** What a Kubernetes downward API would set. */
const POD_ENV = {
  POD_NAME: "echo-7f9c",
  POD_NAMESPACE: "echo",
  NODE_NAME: "worker-2",
};

/** The admin endpoint's base URL, from the server's stdout. */
async function adminUrl(server: ServerProcess): Promise<string> {
  const line = await server.stdout.waitFor(/^admin listening on /);
  return line.slice("admin listening on ".length);
}

async function info(server: ServerProcess): Promise<Record<string, unknown>> {
  const response = await fetch(`${await adminUrl(server)}/info`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  return await response.json();
}

const PERMISSION_SETS: [string, string[], string[]][] = [
  ["deno task serve / client", taskFlags("serve"), taskFlags("client")],
  ["-A", ["-A"], ["-A"]],
];

for (const [name, serverFlags, clientFlags] of PERMISSION_SETS) {
  Deno.test(`under ${name}: --banner json names the host and the pod, echo-client --banner prints it before the verified echo, and /info agrees`, async () => {
    await using server = await startServer(
      ["--banner", "json", "--admin-port", "0"],
      { permissions: serverFlags, env: POD_ENV },
    );
    const client = await runClient(
      ["--port", String(server.port), "--banner", "hello"],
      undefined,
      clientFlags,
    );
    assert.equal(client.code, 0, client.stderr);
    assert.equal(decoder.decode(client.stdout), "hello\n");
    const line = /^banner: (.*)$/m.exec(client.stderr)?.[1] ?? "";
    const banner = JSON.parse(line);
    assert.equal(banner.hostname, Deno.hostname());
    assert.equal(banner.pod, "echo-7f9c");
    assert.equal(banner.namespace, "echo");
    assert.equal(banner.node, "worker-2");
    assert.equal(banner.server, `127.0.0.1:${server.port}`);
    assert.match(banner.peer, /^127\.0\.0\.1:\d+$/);
    assert.equal(banner.proxy_client, null);

    const described = await info(server);
    assert.equal(described.hostname, Deno.hostname());
    assert.equal(described.pod, "echo-7f9c");
    assert.equal(described.version, banner.version);
    assert.deepEqual(
      (described.listeners as { protocol: string }[]).map((l) => l.protocol),
      ["tcp", "http"],
    );
    const settings = described.settings as Record<string, unknown>;
    assert.deepEqual(settings.banner, { template: "json", udp: false });
    assert.equal(settings.drain_timeout_ms, 5_000);
    assert.equal(typeof described.uptime_s, "number");
  });
}

Deno.test("without the permission a banner field needs, the server refuses to start and names the flag (exit 5)", async () => {
  const cases: [string, RegExp][] = [
    [
      "{hostname}",
      /--banner: the field \{hostname\} needs --allow-sys=hostname/,
    ],
    ["json", /--banner: the field \{hostname\} needs --allow-sys=hostname/],
    ["{pod}", /--banner: the field \{pod\} needs --allow-env=POD_NAME/],
  ];
  for (const [template, message] of cases) {
    const result = await runServer(
      ["--port", "0", "--banner", template],
      PROGRAM_PERMISSIONS,
    );
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});

Deno.test("without those permissions, on a terminal, a server without --banner starts and does not stop at a permission prompt", async () => {
  await requireTool("script", ["-V"], "bsdutils");
  // script(1) gives the server a terminal, where Deno would prompt.
  const command = [
    Deno.execPath(),
    "run",
    ...PROGRAM_PERMISSIONS,
    SERVER_SCRIPT,
  ]
    .concat(["--port", "0"]).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const output = new LineCollector(child.stdout);
  try {
    const first = await output.waitFor(/listening on|Deno requests/);
    assert.match(
      first,
      /^listening on 127\.0\.0\.1:\d+/,
      output.lines.join("\n"),
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stdin.close().catch(() => {});
    await output.done;
  }
});

Deno.test("over UDP the banner rides ahead of the echo with --udp-banner (to a datagram at least as long); without it echo-client --banner says what is missing", async () => {
  for (const udpBanner of [true, false]) {
    await using server = await startServer([
      "--udp",
      "--banner",
      "{server}",
      ...(udpBanner ? ["--udp-banner"] : []),
    ]);
    const message = "a datagram longer than its banner";
    const result = await runClient([
      "--port",
      String(server.port),
      "--udp",
      "--banner",
      message,
    ]);
    if (udpBanner) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(decoder.decode(result.stdout), `${message}\n`);
      assert.match(result.stderr, /^banner: 127\.0\.0\.1:\d+$/m);
    } else {
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /has no banner line: is the server started with --banner and --udp-banner, and is the datagram at least as long as the banner\?/,
      );
    }
  }
});

Deno.test("behind HAProxy round robin, ping --reconnect --banner and bench --banner count each backend's share", async () => {
  await using a = await startServer(["--banner", "{pod}", "--quiet"], {
    env: { POD_NAME: "echo-a" },
    permissions: taskFlags("serve"),
  });
  await using b = await startServer(["--banner", "{pod}", "--quiet"], {
    env: { POD_NAME: "echo-b" },
    permissions: taskFlags("serve"),
  });
  const front = freePort();
  await using _haproxy = await startHaproxy(
    `frontend echo
  bind 127.0.0.1:${front}
  default_backend pods
backend pods
  balance roundrobin
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${b.port}
`,
    [front],
  );
  {
    const ping = await runClient([
      "ping",
      "--port",
      String(front),
      "--reconnect",
      "--banner",
      "-c",
      "4",
      "-i",
      "10ms",
      "--json",
    ]);
    assert.equal(ping.code, 0, ping.stderr);
    const pinged = JSON.parse(decoder.decode(ping.stdout));
    assert.deepEqual(pinged.backends, { "echo-a": 2, "echo-b": 2 });

    const bench = await runClient([
      "bench",
      "--port",
      String(front),
      "--banner",
      "--count",
      "40",
      "--messages-per-connection",
      "5",
      "--json",
      "--quiet",
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    const report = JSON.parse(decoder.decode(bench.stdout));
    assert.equal(report.connections_opened, 8);
    assert.deepEqual(report.backends, { "echo-a": 4, "echo-b": 4 });

    const text = await runClient([
      "ping",
      "--port",
      String(front),
      "--reconnect",
      "--banner",
      "-c",
      "2",
      "-i",
      "10ms",
    ]);
    assert.match(
      decoder.decode(text.stdout),
      /^backends: echo-[ab] 50 % \(1\), echo-[ab] 50 % \(1\)$/m,
    );
  }
});
