/**
 * The admin routes and the responses to a parsed request: exact path
 * matches, `HEAD` on every `GET` route, 404 for any other path, 405 for any
 * other method, and every response with `Connection: close`.
 */

import type { RequestHead } from "./_request_head.ts";

/** Where the answers come from (a subset of the server's options). */
export interface RouteSources {
  /** Whether the server accepts clients now (`/readyz`). */
  ready: () => boolean;
  /** The Prometheus exposition (`/metrics`). */
  metrics: () => string;
  /** The content type of `metrics()`. */
  metricsContentType: string;
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

const TEXT = "text/plain; charset=utf-8";

// A Map, not an object literal: a path such as `toString` or `constructor`
// must not find something inherited.
const ROUTES = new Map<string, (sources: RouteSources) => Reply>([
  ["/healthz", () => ({ status: 200, contentType: TEXT, body: "ok\n" })],
  [
    "/readyz",
    (sources) =>
      sources.ready()
        ? { status: 200, contentType: TEXT, body: "ready\n" }
        : { status: 503, contentType: TEXT, body: "not ready\n" },
  ],
  ["/metrics", (sources) => ({
    status: 200,
    contentType: sources.metricsContentType,
    body: sources.metrics(),
  })],
]);

const REASONS = new Map<number, string>([
  [200, "OK"],
  [400, "Bad Request"],
  [404, "Not Found"],
  [405, "Method Not Allowed"],
  [431, "Request Header Fields Too Large"],
  [503, "Service Unavailable"],
]);

const encoder = new TextEncoder();

/** The whole response (head and, unless `HEAD`, body) to `request`. */
export function respond(
  request: RequestHead,
  sources: RouteSources,
): Uint8Array {
  const route = ROUTES.get(request.path);
  if (route === undefined) {
    return http({ status: 404, contentType: TEXT, body: "not found\n" });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return http(
      { status: 405, contentType: TEXT, body: "method not allowed\n" },
      "Allow: GET, HEAD\r\n",
    );
  }
  return http(route(sources), "", request.method === "HEAD");
}

/** The response to a head that could not be parsed (400) or was too large (431). */
export function refuse(status: 400 | 431): Uint8Array {
  const body = status === 400 ? "bad request\n" : "request head too large\n";
  return http({ status, contentType: TEXT, body });
}

function http(reply: Reply, extraHeaders = "", headOnly = false): Uint8Array {
  const body = encoder.encode(reply.body);
  const head = encoder.encode(
    `HTTP/1.1 ${reply.status} ${REASONS.get(reply.status) ?? ""}\r\n` +
      `Content-Type: ${reply.contentType}\r\n` +
      `Content-Length: ${body.length}\r\n` +
      `Connection: close\r\n${extraHeaders}\r\n`,
  );
  if (headOnly) return head;
  const response = new Uint8Array(head.length + body.length);
  response.set(head);
  response.set(body, head.length);
  return response;
}
