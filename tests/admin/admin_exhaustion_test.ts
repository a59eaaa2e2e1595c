import assert from "node:assert/strict";
import { LineCollector, startServer } from "../_helpers.ts";
import { get, readUntilClosed } from "./_http_client.ts";

const FIXTURE = new URL("./_exhaustion_fixture.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

Deno.test("the admin endpoint survives running out of descriptors and answers once some are free", async () => {
  await using child = new Deno.Command("prlimit", {
    args: [
      "--nofile=128:128",
      "--",
      Deno.execPath(),
      "run",
      "--allow-net",
      FIXTURE,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  const stdin = child.stdin.getWriter();
  try {
    const port = Number((await stdout.waitFor(/^admin /)).split(" ")[1]);
    assert.match(await stdout.waitFor(/^exhausted /), /Too many open files/);
    using probe = await Deno.connect({ hostname: "127.0.0.1", port });
    await probe.write(encoder.encode(get("/healthz")));
    // The probe waits in the accept queue: the admin's accept fails, and
    // the server retries instead of dying.
    assert.equal(
      await stdout.waitFor(/^accept-error /),
      "accept-error exhausted",
    );
    await stdin.write(encoder.encode("release\n"));
    await stdout.waitFor(/^released$/);
    const answer = await readUntilClosed(probe);
    assert.match(answer.text, /^HTTP\/1\.1 200 OK\r\n/);
    await stdin.close();
    assert.equal((await child.status).code, 0, stderr.lines.join("\n"));
  } finally {
    await stdin.close().catch(() => {});
    await Promise.all([stdout.done, stderr.done]);
  }
  assert.equal(stderr.count(/panicked/), 0);
});

Deno.test("server.ts keeps its admin endpoint while echo clients use up every descriptor, and answers once they leave", async () => {
  await using server = await startServer(["--admin-port", "0", "--quiet"], {
    wrapper: ["prlimit", "--nofile=256:256", "--"],
  });
  const admin = await server.stdout.waitFor(/^admin listening on /);
  const adminPort = Number(/:(\d+)$/.exec(admin)?.[1]);
  const clients: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      clients.push(
        await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
      );
    }
    await server.stderr.waitFor(/ accept-error kind=exhausted /);
    using probe = await Deno.connect({
      hostname: "127.0.0.1",
      port: adminPort,
    });
    await probe.write(encoder.encode(get("/healthz")));
    // The echo service warns once a second while still out of
    // descriptors: by the next warning, the admin has failed to accept the
    // probe many times, and is still there.
    const from = server.stderr.lines.length;
    const later = await server.stderr.waitFor(/ accept-error /, from);
    assert.match(later, /kind=exhausted/, server.stderr.lines.join("\n"));
    for (const client of clients.splice(0)) client.close();
    const answer = await readUntilClosed(probe);
    assert.match(answer.text, /^HTTP\/1\.1 200 OK\r\n/);
  } finally {
    for (const client of clients) client.close();
  }
  assert.equal(server.stderr.count(/panicked/), 0);
});
