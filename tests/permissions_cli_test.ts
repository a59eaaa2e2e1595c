/**
 * File access: `deno task serve` and `client` carry the compiled binaries'
 * permissions, so every file flag works through them, and both programs
 * drop file access once start-up is done (lib/cli/drop_file_access.ts).
 *
 * A program's permissions cannot be seen from outside, so the programs'
 * own `main` runs here under a small script, with the binaries'
 * permissions, which then tries a file the flags did not name. The first
 * tests pin down how `Deno.permissions.revoke` behaves, which the drop
 * relies on.
 */

import assert from "node:assert/strict";
import { NO_PROMPT, PERMISSIONS } from "../tools/compile.ts";
import { generateSelfSigned } from "../lib/tls/mod.ts";
import { connectWithTimeout } from "../lib/net/mod.ts";
import {
  CLIENT_SCRIPT,
  LineCollector,
  loopback,
  readToEnd,
  runScript,
  SERVER_SCRIPT,
  taskFlags,
} from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url);
const DROP_MODULE = new URL("lib/cli/drop_file_access.ts", ROOT).href;
/** The permission flags of `deno task NAME`, without its V8 flags. */
function taskPermissions(name: "serve" | "client"): string[] {
  return taskFlags(name).filter((flag) => !flag.startsWith("--v8-flags"));
}

/**
 * Script text: `attempt(dir)` tries to read `dir/other.txt` and to write
 * `dir/written.txt`, files no flag names, and says how each went.
 */
const ATTEMPT = `
function attempt(dir) {
  const outcome = (access) => {
    try {
      access();
      return "ok";
    } catch (error) {
      return error.name;
    }
  };
  return "read=" + outcome(() => Deno.readTextFileSync(dir + "/other.txt")) +
    " write=" + outcome(() => Deno.writeTextFileSync(dir + "/written.txt", "x"));
}
`;

/** A temporary folder with `other.txt` and a certificate for 127.0.0.1. */
interface Fixture extends AsyncDisposable {
  dir: string;
  cert: string;
  certFile: string;
  keyFile: string;
}

async function fixture(): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "echo-permissions-" });
  const { cert, key } = await generateSelfSigned(["127.0.0.1"]);
  await Deno.writeTextFile(`${dir}/other.txt`, "not named by any flag");
  await Deno.writeTextFile(`${dir}/cert.pem`, cert);
  await Deno.writeTextFile(`${dir}/key.pem`, key);
  return {
    dir,
    cert,
    certFile: `${dir}/cert.pem`,
    keyFile: `${dir}/key.pem`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Writes `text` as `dir/name` and returns its path. */
async function script(
  dir: string,
  name: string,
  text: string,
): Promise<string> {
  await Deno.writeTextFile(`${dir}/${name}`, text);
  return `${dir}/${name}`;
}

/** The flags the binaries are compiled with. */
const BINARY_FLAGS = {
  "echo-server": [...PERMISSIONS["echo-server"], NO_PROMPT],
  "echo-client": [...PERMISSIONS["echo-client"], NO_PROMPT],
};

/** Runs `deno run FLAGS PATH ARGS`; its exit code, stdout and stderr. */
async function runUnder(
  flags: string[],
  path: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runScript(path, args, undefined, flags);
  return { ...result, stdout: new TextDecoder().decode(result.stdout) };
}

/** A spawned server that listens; stopped with SIGTERM on dispose. */
interface Server extends AsyncDisposable {
  port: number;
  stdout: LineCollector;
  stderr: LineCollector;
  /** Sends SIGTERM and resolves with the exit code, once. */
  stop(): Promise<number>;
}

/** Spawns `deno run FLAGS SCRIPT ARGS` and waits for the listening line. */
async function spawnServer(
  flags: string[],
  path: string,
  args: string[],
): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, path, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  let stopped: Promise<number> | undefined;
  const stop = (): Promise<number> =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      const { code } = await child.status;
      await Promise.all([stdout.done, stderr.done]);
      return code;
    })();
  const listening = await stdout.waitFor(/^listening on /);
  if (listening === "") {
    await stop();
    throw new Error(`server did not start: ${stderr.lines.join("\n")}`);
  }
  return {
    port: Number(/:(\d+)$/.exec(listening)?.[1] ?? 0),
    stdout,
    stderr,
    stop,
    [Symbol.asyncDispose]: async () => void await stop(),
  };
}

/** `deno task serve ARGS`, as the task runs it, from the project root. */
function serveTask(args: string[]): Promise<Server> {
  return spawnServer(taskFlags("serve"), SERVER_SCRIPT, args);
}

/** Sends `text` over TLS, trusting `cert`, and returns the echo. */
async function tlsEcho(
  port: number,
  cert: string,
  text: string,
): Promise<string> {
  using conn = await connectWithTimeout(loopback(port), {
    tls: { caCerts: [cert] },
  });
  await conn.write(new TextEncoder().encode(text));
  await conn.closeWrite();
  return new TextDecoder().decode(await readToEnd(conn));
}

Deno.test("deno task serve and client carry the compiled binaries' permissions, and neither prompts", () => {
  assert.deepEqual(taskPermissions("serve"), BINARY_FLAGS["echo-server"]);
  assert.deepEqual(taskPermissions("client"), BINARY_FLAGS["echo-client"]);
});

// How Deno 2.9 revokes, which drop_file_access.ts is designed around.

/** Script text: `drop_probe.js MODE DIR`, printing `attempt(DIR)`. */
const DROP_PROBE = `
import { dropFileAccess } from ${JSON.stringify(DROP_MODULE)};
${ATTEMPT}
const [mode, dir] = Deno.args;
const before = attempt(dir);
if (mode === "drop") dropFileAccess();
if (mode === "keep-read") dropFileAccess({ keep: ["read"] });
if (mode === "one-path") {
  Deno.permissions.revokeSync({ name: "read", path: dir + "/other.txt" });
  Deno.permissions.revokeSync({ name: "write", path: dir + "/written.txt" });
}
console.log("before " + before);
console.log("after " + attempt(dir));
`;

Deno.test("dropFileAccess takes file read and write away from a program with the binaries' permissions, and keeps what it is told to", async () => {
  await using files = await fixture();
  const probe = await script(files.dir, "drop_probe.js", DROP_PROBE);
  const cases = {
    "drop": "after read=NotCapable write=NotCapable",
    "keep-read": "after read=ok write=NotCapable",
  };
  for (const [mode, expected] of Object.entries(cases)) {
    const result = await runUnder(BINARY_FLAGS["echo-client"], probe, [
      mode,
      files.dir,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `before read=ok write=ok\n${expected}\n`,
      mode,
    );
  }
});

Deno.test("revoking one path under a global grant changes nothing, so file access can only be dropped whole", async () => {
  await using files = await fixture();
  const probe = await script(files.dir, "drop_probe.js", DROP_PROBE);
  const result = await runUnder(BINARY_FLAGS["echo-client"], probe, [
    "one-path",
    files.dir,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "before read=ok write=ok\nafter read=ok write=ok\n",
  );
});

/** Script text: a Worker that drops or attempts when told. */
const PROBE_WORKER = `
import { dropFileAccess } from ${JSON.stringify(DROP_MODULE)};
${ATTEMPT}
self.onmessage = ({ data }) => {
  if (data.drop) dropFileAccess();
  self.postMessage(attempt(data.dir));
};
`;

/**
 * Script text: `worker_probe.js WHO DIR` starts a Worker, lets WHO
 * (`parent` or `worker`) drop, and prints what each thread can do then.
 */
const WORKER_PROBE = `
import { dropFileAccess } from ${JSON.stringify(DROP_MODULE)};
${ATTEMPT}
const [who, dir] = Deno.args;
const worker = new Worker(new URL("./probe_worker.js", import.meta.url), {
  type: "module",
});
const ask = (message) =>
  new Promise((resolve) => {
    worker.onmessage = ({ data }) => resolve(data);
    worker.postMessage(message);
  });
console.log("worker before " + await ask({ dir }));
if (who === "parent") dropFileAccess();
else await ask({ dir, drop: true });
console.log("worker after " + await ask({ dir }));
console.log("parent after " + attempt(dir));
worker.terminate();
`;

Deno.test("a drop holds in every thread: a running Worker loses file access with its parent, and a Worker's drop reaches its parent", async () => {
  await using files = await fixture();
  await script(files.dir, "probe_worker.js", PROBE_WORKER);
  const probe = await script(files.dir, "worker_probe.js", WORKER_PROBE);
  for (const who of ["parent", "worker"]) {
    const result = await runUnder(BINARY_FLAGS["echo-client"], probe, [
      who,
      files.dir,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      "worker before read=ok write=ok\n" +
        "worker after read=NotCapable write=NotCapable\n" +
        "parent after read=NotCapable write=NotCapable\n",
      `${who} drops`,
    );
  }
});

// The programs.

/**
 * Script text: `serve_probe.js DIR ARGS...` runs echo-server's `main`
 * with ARGS and prints `attempt(DIR)` the moment file access is dropped.
 */
const SERVE_PROBE = `
import { main } from ${JSON.stringify(new URL("server.ts", ROOT).href)};
${ATTEMPT}
const [dir, ...args] = Deno.args;
const changed = (name) =>
  new Promise((resolve) =>
    Deno.permissions.querySync({ name }).addEventListener("change", resolve, {
      once: true,
    })
  );
Promise.all([changed("read"), changed("write")]).then(() =>
  console.log("file access dropped: " + attempt(dir))
);
Deno.exit(await main(args));
`;

Deno.test("echo-server with the binaries' permissions serves TLS from the user's --tls-cert and --tls-key, and once listening can read or write no file", async () => {
  await using files = await fixture();
  const probe = await script(files.dir, "serve_probe.js", SERVE_PROBE);
  await using server = await spawnServer(BINARY_FLAGS["echo-server"], probe, [
    files.dir,
    "--port",
    "0",
    "--tls-cert",
    files.certFile,
    "--tls-key",
    files.keyFile,
  ]);
  assert.equal(await tlsEcho(server.port, files.cert, "over tls"), "over tls");
  assert.equal(await server.stop(), 0, server.stderr.lines.join("\n"));
  // The drop comes before the server waits for a signal, so by the exit
  // its line is out.
  assert.deepEqual(
    server.stdout.lines.filter((line) => line.startsWith("file access")),
    ["file access dropped: read=NotCapable write=NotCapable"],
  );
});

Deno.test("deno task serve reads --tls-cert and --tls-key, and deno task client and client ping verify it with --ca", async () => {
  await using files = await fixture();
  await using server = await serveTask([
    "--port",
    "0",
    "--tls-cert",
    files.certFile,
    "--tls-key",
    files.keyFile,
  ]);
  assert.equal(await tlsEcho(server.port, files.cert, "task"), "task");
  const port = String(server.port);
  const client = await runUnder(taskFlags("client"), CLIENT_SCRIPT, [
    "--tls",
    "--ca",
    files.certFile,
    "--port",
    port,
    "hello",
  ]);
  assert.equal(client.code, 0, client.stderr);
  assert.equal(client.stdout, "hello\n");
  const ping = await runUnder(taskFlags("client"), CLIENT_SCRIPT, [
    "ping",
    "--tls",
    "--ca",
    files.certFile,
    "--port",
    port,
    "-c",
    "2",
    "-i",
    "10ms",
    "--json",
  ]);
  assert.equal(ping.code, 0, ping.stderr);
  assert.equal(
    JSON.parse(ping.stdout).received,
    2,
  );
  assert.equal(await server.stop(), 0);
});

Deno.test("deno task serve --unix serves its socket and still removes the file at shutdown", async () => {
  await using files = await fixture();
  const path = `${files.dir}/echo.sock`;
  await using server = await serveTask(["--unix", path]);
  {
    using conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode("unix"));
    await conn.closeWrite();
    assert.equal(new TextDecoder().decode(await readToEnd(conn)), "unix");
  }
  assert.equal(await server.stop(), 0, server.stderr.lines.join("\n"));
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
});

/**
 * Script text: `client_probe.js DIR ARGS...` runs echo-client's `main`
 * with ARGS, then prints `attempt(DIR)`.
 */
const CLIENT_PROBE = `
import { main } from ${JSON.stringify(new URL("client.ts", ROOT).href)};
${ATTEMPT}
const [dir, ...args] = Deno.args;
const code = await main(args);
console.log("file access afterwards: " + attempt(dir));
Deno.exit(code);
`;

Deno.test("echo-client, bench and ping under deno task client's permissions do their work, then can read or write no file", async () => {
  await using files = await fixture();
  const probe = await script(files.dir, "client_probe.js", CLIENT_PROBE);
  await using server = await serveTask([
    "--port",
    "0",
    "--tls-cert",
    files.certFile,
    "--tls-key",
    files.keyFile,
  ]);
  await using plain = await serveTask(["--port", "0"]);
  const port = String(server.port);
  const runs: [string[], string, string][] = [
    [
      ["--tls", "--ca", files.certFile, "--port", port, "hi"],
      "hi",
      "read=NotCapable write=NotCapable",
    ],
    [
      ["bench", "--port", String(plain.port), "--count", "20", "--json"],
      '"completed":20',
      "read=NotCapable write=NotCapable",
    ],
    [
      ["ping", "--tls", "--ca", files.certFile, "--port", port, "-c", "1"],
      "1 sent, 1 received",
      "read=NotCapable write=NotCapable",
    ],
  ];
  for (const [args, work, access] of runs) {
    const result = await runUnder(taskFlags("client"), probe, [
      files.dir,
      ...args,
    ]);
    assert.equal(result.code, 0, `${args[0]}: ${result.stderr}`);
    assert.ok(result.stdout.includes(work), result.stdout);
    assert.ok(
      result.stdout.endsWith(`file access afterwards: ${access}\n`),
      `${args[0]}: ${result.stdout}`,
    );
  }
  assert.equal(await server.stop(), 0);
  assert.equal(await plain.stop(), 0);
});

Deno.test("echo-client and bench --mode connect through deno task client reach a Unix socket: the drop leaves what connecting needs", async () => {
  await using files = await fixture();
  const path = `${files.dir}/echo.sock`;
  await using server = await serveTask(["--unix", path]);
  const client = await runUnder(taskFlags("client"), CLIENT_SCRIPT, [
    "--unix",
    path,
    "over",
    "unix",
  ]);
  assert.equal(client.code, 0, client.stderr);
  assert.equal(client.stdout, "over unix\n");
  const bench = await runUnder(taskFlags("client"), CLIENT_SCRIPT, [
    "bench",
    "--unix",
    path,
    "--mode",
    "connect",
    "--count",
    "20",
    "--json",
    "--quiet",
  ]);
  assert.equal(bench.code, 0, bench.stderr);
  assert.equal(
    JSON.parse(bench.stdout).completed,
    20,
  );
  assert.equal(await server.stop(), 0);
});
