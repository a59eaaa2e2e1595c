/**
 * The speed of the design experiments/tls_native_upgrade.ts rules out: a
 * `node:net` server that starts `node:tls` on each accepted socket (Deno's
 * native TLS on the socket's handle) and echoes, pausing only while a
 * write is buffered. `experiments/tls_vs_go.py` runs it beside Go and our
 * server. Not safe to serve with: see that file.
 *
 *   deno run -A experiments/tls_upgrade_echo.ts PORT CERT.pem KEY.pem
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";

const [port = "7000", certFile = "", keyFile = ""] = Deno.args;
const secureContext = tls.createSecureContext({
  cert: await Deno.readTextFile(certFile),
  key: await Deno.readTextFile(keyFile),
});
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  socket.setNoDelay(true);
  socket.on("error", () => {});
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
  secure.on("error", () => {});
  secure.on("data", (chunk: Uint8Array) => {
    if (!secure.write(chunk)) {
      secure.pause();
      secure.once("drain", () => secure.resume());
    }
  });
  secure.on("end", () => secure.end());
});
server.listen({ port: Number(port), host: "127.0.0.1", backlog: 4096 });
