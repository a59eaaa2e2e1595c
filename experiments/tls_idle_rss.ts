// A measuring script reports on stdout.
// deno-lint-ignore-file no-console
/**
 * Memory per idle TLS connection: starts `server.ts` with TLS (the
 * server's flags after `--`), opens N connections that finish their
 * handshake and go silent, and prints the server's RSS growth per
 * connection (from /proc, once the RSS has settled).
 *
 *   deno run -A experiments/tls_idle_rss.ts 1000 -- --handshake-timeout 0s
 *
 * @module
 */

const [count = "1000", _dashes, ...serverArgs] = Deno.args;
const dir = await Deno.makeTempDir();
const certFile = `${dir}/cert.pem`;
const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=4",
    new URL("../server.ts", import.meta.url).pathname,
    "--port",
    "0",
    "--tls",
    "--tls-cert-out",
    certFile,
    "--quiet",
    ...serverArgs,
  ],
  stdout: "piped",
  stderr: "null",
}).spawn();
const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let text = "";
while (!/listening on tls .*:(\d+)/.test(text)) {
  text += (await reader.read()).value;
}
const port = Number(/listening on tls .*:(\d+)/.exec(text)?.[1]);
const cert = await Deno.readTextFile(certFile);
const rss = async () => {
  const status = await Deno.readTextFile(`/proc/${server.pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) * 1024;
};
const settle = () => new Promise((resolve) => setTimeout(resolve, 2_000));
await settle();
const before = await rss();
const conns: Deno.TlsConn[] = [];
for (let i = 0; i < Number(count); i++) {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [cert],
  });
  await conn.handshake();
  // One round trip, so the server has read and answered once.
  await conn.write(new Uint8Array([1]));
  await conn.read(new Uint8Array(1));
  conns.push(conn);
}
await settle();
const after = await rss();
console.log(
  `${count} idle TLS connections (${
    serverArgs.join(" ") || "default TLS"
  }): RSS +${((after - before) / 1024 / 1024).toFixed(1)} MiB, ${
    ((after - before) / Number(count) / 1024).toFixed(1)
  } KiB each`,
);
for (const conn of conns) conn.close();
server.kill("SIGTERM");
await server.status;
await Deno.remove(dir, { recursive: true });
