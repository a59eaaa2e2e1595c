/**
 * The server against hostile and broken peers, as a black box: a storm of
 * resets before accept, a stderr nobody reads, silent TLS clients.
 */

import assert from "node:assert/strict";
import net from "node:net";
import {
  connect,
  LineCollector,
  PROGRAM_PERMISSIONS,
  SERVER_SCRIPT,
  startServer,
} from "./_helpers.ts";

async function ping(conn: Deno.Conn): Promise<void> {
  await conn.write(new Uint8Array([42]));
  const echo = new Uint8Array(1);
  assert.equal(await conn.read(echo), 1);
  assert.equal(echo[0], 42);
}

/** Connects to `port` and resets at once (SO_LINGER 0 and close). */
function connectAndReset(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1" }, () => {
      socket.resetAndDestroy();
    });
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
}

/**
 * Open descriptors of process `pid`. (Deno wants --allow-all to read
 * /proc/PID/fd itself, so `ls` reads it.)
 */
async function openDescriptors(pid: number): Promise<number> {
  const { stdout, success } = await new Deno.Command("ls", {
    args: [`/proc/${pid}/fd`],
  }).output();
  assert.ok(success, `ls /proc/${pid}/fd`);
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).length;
}

/** Fails the test instead of hanging when `promise` takes longer than `ms`. */
async function within<T>(
  ms: number,
  what: string,
  promise: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("after a storm of resets before accept a new client is echoed at once, and the resets are counted and logged a few times only", async () => {
  await using server = await startServer(["--log-format", "json"]);
  // Stopped, the server cannot accept: 300 clients connect in the kernel's
  // backlog and reset there, so each becomes a failed accept.
  Deno.kill(server.process.pid, "SIGSTOP");
  try {
    await Promise.all(
      Array.from({ length: 300 }, () => connectAndReset(server.port)),
    );
  } finally {
    Deno.kill(server.process.pid, "SIGCONT");
  }
  using conn = await connect(server.port);
  // Before the fix each reset cost a back-off of up to a second.
  await within(5_000, "echo after the storm", ping(conn));
  server.process.kill("SIGTERM");
  assert.equal((await server.process.status).code, 0);
  await server.stderr.done;
  const stopped = JSON.parse(
    await server.stderr.waitFor(/"event":"stopped"/),
  );
  assert.equal(stopped.accept_errors, 300);
  const warnings = server.stderr.lines.filter((line) =>
    line.includes('"event":"accept-error"')
  ).map((line) => JSON.parse(line));
  assert.ok(warnings.length <= 3, `${warnings.length} warning lines`);
  assert.equal(
    // A "repeated=N" line stands for the N events held back before it.
    warnings.reduce((total, line) => total + (line.repeated ?? 1), 0),
    300,
  );
  assert.ok(warnings.every((line) => line.kind === "connection"));
});

/**
 * A server whose stderr is piped and not read (the pipe fills after about
 * 64 KiB), once it has served 2,000 clients one after another: about
 * 480 KiB of log lines, far more than the pipe and the log queue hold.
 */
async function serverWithStalledStderr(): Promise<{
  child: Deno.ChildProcess;
  stdout: LineCollector;
}> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PROGRAM_PERMISSIONS, SERVER_SCRIPT, "--port", "0"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector(child.stdout);
  const listening = await stdout.waitFor(/^listening on /);
  const port = Number(/:(\d+)$/.exec(listening)?.[1]);
  for (let i = 0; i < 2_000; i++) {
    using conn = await connect(port);
    await within(10_000, `client ${i}`, ping(conn));
  }
  return { child, stdout };
}

/** Ends `child` if it still runs, and waits for its output to close. */
async function reap(
  child: Deno.ChildProcess,
  stdout: LineCollector,
): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // Exited.
  }
  await child.status;
  await stdout.done;
}

Deno.test("with a stderr that is never read the server keeps serving, and exits 0 on SIGTERM", async () => {
  const { child, stdout } = await serverWithStalledStderr();
  try {
    child.kill("SIGTERM");
    const status = await within(10_000, "exit after SIGTERM", child.status);
    assert.equal(status.code, 0);
  } finally {
    await reap(child, stdout);
    await child.stderr.cancel();
  }
});

Deno.test("once a stalled stderr is read again, a line says how many log lines were dropped", async () => {
  const { child, stdout } = await serverWithStalledStderr();
  try {
    const stderr = new LineCollector(child.stderr);
    const notice = await stderr.waitFor(/ log-dropped lines=\d+$/);
    assert.ok(Number(/lines=(\d+)/.exec(notice)?.[1]) > 0);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await stderr.done;
    const stopped = stderr.lines.find((line) => / stopped /.test(line)) ?? "";
    assert.match(stopped, / log_lines_dropped=[1-9]\d*$/);
  } finally {
    await reap(child, stdout);
  }
});

Deno.test("silent TLS clients are closed at the handshake deadline: each sees EOF and the server keeps no descriptor for them", async () => {
  await using server = await startServer([
    "--tls",
    "--handshake-timeout",
    "200ms",
    "--quiet",
  ]);
  const pid = server.process.pid;
  const before = await openDescriptors(pid);
  const clients = await Promise.all(
    Array.from({ length: 50 }, () => connect(server.port)),
  );
  try {
    const ends = await Promise.all(
      clients.map((conn) =>
        conn.read(new Uint8Array(1)).then(
          (n) => n === null ? "eof" : "data",
          (error) =>
            error instanceof Deno.errors.ConnectionReset
              ? "reset"
              : String(error),
        )
      ),
    );
    assert.deepEqual(
      ends.filter((end) => end !== "eof" && end !== "reset"),
      [],
    );
    // Each client's socket is the only one the server had for it, closed
    // before the client saw its end.
    assert.equal(await openDescriptors(pid), before);
  } finally {
    for (const conn of clients) conn.close();
  }
});
