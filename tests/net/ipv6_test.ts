import assert from "node:assert/strict";
import {
  bytesEqual,
  randomBytes,
  roundTrip,
  runClient,
  runServer,
  startServer,
} from "../_helpers.ts";

Deno.test("server on :: is dual-stack and logs IPv4 peers without the ::ffff: prefix", async () => {
  await using server = await startServer([], {
    address: ["--host", "::", "--port", "0"],
  });
  assert.match(server.address, /^\[::\]:\d+$/);
  const data = randomBytes(65_507);
  for (const hostname of ["127.0.0.1", "::1"]) {
    using conn = await Deno.connect({ hostname, port: server.port });
    assert.ok(bytesEqual(await roundTrip(conn, data), data));
  }
  await server.stderr.waitFor(/ open conn=2 /);
  assert.match(
    server.stderr.lines.join("\n"),
    / open conn=1 peer=127\.0\.0\.1:\d+ /,
  );
  assert.match(
    server.stderr.lines.join("\n"),
    / open conn=2 peer=\[::1\]:\d+ /,
  );
});

Deno.test("server on ::1 serves IPv6 only and the client takes [::1]:PORT", async () => {
  await using server = await startServer([], {
    address: ["--host", "[::1]:0"],
  });
  assert.match(server.address, /^\[::1\]:\d+$/);
  const echoed = await runClient(["--host", server.address, "over", "v6"]);
  assert.equal(echoed.code, 0);
  assert.equal(new TextDecoder().decode(echoed.stdout), "over v6\n");
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: server.port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("an invalid IPv6 literal is a usage error naming it, for both programs", async () => {
  const server = await runServer(["--host", "::1::2"]);
  assert.equal(server.code, 2);
  assert.equal(
    server.stderr,
    'error: --host: Invalid IPv6 address "::1::2": expected e.g. ::1 or [::1]: see --help\n',
  );
  const client = await runClient(["--host", "[fe80::zz]:7007", "hi"]);
  assert.equal(client.code, 2);
  assert.match(
    client.stderr,
    /^error: --host: Invalid IPv6 address "fe80::zz"/,
  );
});
