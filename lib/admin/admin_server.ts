/**
 * The admin endpoint: `GET /healthz`, `GET /readyz` and `GET /metrics`
 * over HTTP/1.1, for load balancer probes, Kubernetes and Prometheus.
 *
 * It is deliberately small and bounded, because anyone who can reach the
 * port can send it anything: a handful of connections at once, one request
 * per connection (`Connection: close`), the request head read within a
 * deadline and at most 8 KiB of it, the body ignored. (`Deno.serve` offers
 * neither a connection limit nor a header deadline.) It runs in the main
 * thread, apart from the Workers that serve echo, so a slow or hostile
 * HTTP client cannot stall echo.
 *
 * @module
 */

import { closeQuietly, IdleTimer, writeAll } from "../net/mod.ts";

/** Options for {@linkcode startAdminServer}. */
export interface AdminServerOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Whether the server accepts clients now (`/readyz`). */
  ready: () => boolean;
  /** The Prometheus exposition (`/metrics`). */
  metrics: () => string;
  /** The content type of `metrics()`. */
  metricsContentType: string;
  /**
   * Admin connections served at once; more are closed at once.
   * @default {16}
   */
  maxConnections?: number;
  /**
   * A request must arrive and be answered within this long, in ms.
   * @default {5000}
   */
  timeout?: number;
}

/** A running admin server. */
export interface AdminServer extends AsyncDisposable {
  /** Where it listens. */
  addr: Deno.NetAddr;
}

const MAX_REQUEST_HEAD = 8 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Listens on `options.hostname:options.port` and answers probes and
 * scrapes until disposed.
 *
 * @param options Address, state callbacks and limits.
 * @returns The server, listening.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 *
 * @example
 * ```ts
 * import { startAdminServer } from "./admin_server.ts";
 * await using admin = startAdminServer({
 *   hostname: "127.0.0.1", port: 0, ready: () => true,
 *   metrics: () => "", metricsContentType: "text/plain",
 * });
 * ```
 */
export function startAdminServer(options: AdminServerOptions): AdminServer {
  const { maxConnections = 16, timeout = 5_000 } = options;
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
  });
  const open = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      if (open.size >= maxConnections) {
        closeQuietly(conn);
        continue;
      }
      const done = answer(conn, options, timeout).finally(() => {
        closeQuietly(conn);
        open.delete(done);
      });
      open.add(done);
    }
  })();
  return {
    addr: listener.addr,
    async [Symbol.asyncDispose](): Promise<void> {
      closeQuietly(listener);
      await accepting;
      await Promise.all(open);
    },
  };
}

/** Reads one request head and answers it; any failure just ends it. */
async function answer(
  conn: Deno.Conn,
  options: AdminServerOptions,
  timeout: number,
): Promise<void> {
  using _deadline = new IdleTimer(timeout, () => closeQuietly(conn));
  try {
    const head = await readRequestHead(conn);
    if (head === undefined) return;
    const [method = "", target = ""] = head.split("\r\n")[0]?.split(" ") ?? [];
    const path = target.split("?")[0];
    const response = respond(method, path ?? "", options);
    await writeAll(conn, encoder.encode(response));
  } catch {
    // A client that resets, or that the deadline cut off: nothing to say.
  }
}

/** The request head (up to the blank line), or undefined if cut short. */
async function readRequestHead(conn: Deno.Conn): Promise<string | undefined> {
  const buffer = new Uint8Array(MAX_REQUEST_HEAD);
  let filled = 0;
  while (filled < buffer.length) {
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) return undefined;
    filled += n;
    const text = decoder.decode(buffer.subarray(0, filled));
    if (text.includes("\r\n\r\n")) return text;
  }
  return undefined; // too large: not answered
}

function respond(
  method: string,
  path: string,
  options: AdminServerOptions,
): string {
  const routes: Record<string, () => [number, string, string]> = {
    "/healthz": () => [200, "text/plain", "ok\n"],
    "/readyz": () =>
      options.ready()
        ? [200, "text/plain", "ready\n"]
        : [503, "text/plain", "not ready\n"],
    "/metrics": () => [200, options.metricsContentType, options.metrics()],
  };
  const route = routes[path];
  if (route === undefined) return http(404, "text/plain", "not found\n");
  if (method !== "GET") {
    return http(405, "text/plain", "method not allowed\n", "Allow: GET\r\n");
  }
  return http(...route());
}

const REASONS: Record<number, string> = {
  200: "OK",
  404: "Not Found",
  405: "Method Not Allowed",
  503: "Service Unavailable",
};

function http(
  status: number,
  contentType: string,
  body: string,
  extraHeaders = "",
): string {
  return `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
    `Content-Type: ${contentType}\r\n` +
    `Content-Length: ${encoder.encode(body).length}\r\n` +
    `Connection: close\r\n${extraHeaders}\r\n${body}`;
}
