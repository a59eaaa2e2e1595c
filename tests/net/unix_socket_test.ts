import assert from "node:assert/strict";
import { formatAddress, removeStaleSocket } from "../../lib/net/mod.ts";
import {
  bytesEqual,
  FILE_PERMISSIONS,
  randomBytes,
  readToEnd,
  runClient,
  runServer,
  startServer,
} from "../_helpers.ts";

// Unix sockets need file access to the socket path besides the network.

Deno.test("server on --unix echoes binary data, half-closes, and removes its socket on exit", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/echo.sock`;
  try {
    const server = await startServer([], {
      address: ["--unix", path],
      permissions: FILE_PERMISSIONS,
    });
    await using _ = server;
    assert.equal(server.address, path);
    const data = randomBytes(1024 * 1024 + 1);
    await Promise.all([0, 1, 2].map(async () => {
      using conn = await Deno.connect({ transport: "unix", path });
      const reading = readToEnd(conn);
      await conn.write(data.subarray(0, 1)); // first byte alone, then the rest
      let written = 1;
      while (written < data.length) {
        written += await conn.write(data.subarray(written));
      }
      await conn.closeWrite();
      assert.ok(bytesEqual(await reading, data));
    }));
    const client = await runClient(
      ["--unix", path, "via", "unix"],
      undefined,
      FILE_PERMISSIONS,
    );
    assert.equal(client.code, 0);
    assert.equal(new TextDecoder().decode(client.stdout), "via unix\n");

    server.process.kill("SIGTERM");
    assert.equal((await server.process.status).code, 0);
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server --unix replaces a stale socket file but refuses a live socket or a regular file", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/echo.sock`;
  try {
    // A socket file nobody listens on: what a killed server leaves behind.
    const killed = await startServer([], {
      address: ["--unix", path],
      permissions: FILE_PERMISSIONS,
    });
    await killed[Symbol.asyncDispose](); // SIGKILL: no chance to clean up
    assert.ok((await Deno.lstat(path)).isSocket);
    await using server = await startServer([], {
      address: ["--unix", path],
      permissions: FILE_PERMISSIONS,
    });
    assert.equal(server.address, path);

    const second = await runServer(["--unix", path], FILE_PERMISSIONS);
    assert.equal(second.code, 4);
    assert.equal(
      second.stderr,
      `error: Address "${path}" is already in use: stop the other server or pick another --unix path\n`,
    );

    const file = `${dir}/notes.txt`;
    await Deno.writeTextFile(file, "keep me");
    const refused = await runServer(["--unix", file], FILE_PERMISSIONS);
    assert.equal(refused.code, 4);
    assert.equal(
      refused.stderr,
      `error: Refusing to replace "${file}": it exists and is not a socket\n`,
    );
    assert.equal(await Deno.readTextFile(file), "keep me");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeStaleSocket leaves an absent path alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await removeStaleSocket(`${dir}/absent.sock`);
    assert.deepEqual(
      Array.from(Deno.readDirSync(dir)),
      [],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server --unix without file permissions says which permission is missing", async () => {
  const result = await runServer(["--unix", "/tmp/echo-no-permission.sock"]);
  assert.equal(result.code, 5);
  assert.match(result.stderr, /^error: Missing permission: .*read access/);
});

Deno.test("an unnamed Unix-socket client is formatted as unix, not null", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/echo.sock`;
    using listener = Deno.listen({ transport: "unix", path });
    using client = await Deno.connect({ transport: "unix", path });
    using accepted = await listener.accept();
    assert.equal(formatAddress(accepted.remoteAddr), "unix");
    assert.equal(formatAddress(client.remoteAddr), path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
