/**
 * The admin routes (`/healthz`, `/readyz`, `/metrics`, `/info`,
 * `/faults`) and the responses to a parsed request: exact path
 * matches, `HEAD` on every `GET` route, `PUT` on `/faults` only, 404 for
 * any other path, 405 for any other method, and every response with
 * `Connection: close`.
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
  /** The faults in force (`/faults`); absent: no such route. */
  faults?: FaultsRoute;
  /** The server's description as JSON (`/info`); absent: no such route. */
  info?: () => string;
}

/** What `/faults` shows and, if allowed, changes. */
export interface FaultsRoute {
  /** The faults in force, as JSON. */
  show: () => string;
  /**
   * Replaces them from a JSON body; absent: `PUT` is refused (403).
   * Returns the new faults as JSON, or why the body was refused.
   */
  change?: (body: string) => { json: string } | { error: string };
}

/** How many bytes a request body may have (`PUT /faults`). */
export const MAX_REQUEST_BODY = 4096;

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

/** A path's answers, by method; `HEAD` is `get` without the body. */
interface Route {
  get: (sources: RouteSources) => Reply | undefined;
  put?: (
    sources: RouteSources,
    body: string,
    host: string | undefined,
  ) => Reply | undefined;
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

// A Map, not an object literal: a path such as `toString` or `constructor`
// must not find something inherited. A route answering `undefined` is not
// there for this server (404).
const ROUTES = new Map<string, Route>([
  ["/healthz", {
    get: () => ({ status: 200, contentType: TEXT, body: "ok\n" }),
  }],
  ["/readyz", {
    get: (sources) =>
      sources.ready()
        ? { status: 200, contentType: TEXT, body: "ready\n" }
        : { status: 503, contentType: TEXT, body: "not ready\n" },
  }],
  ["/metrics", {
    get: (sources) => ({
      status: 200,
      contentType: sources.metricsContentType,
      body: sources.metrics(),
    }),
  }],
  ["/info", {
    get: ({ info }) =>
      info === undefined
        ? undefined
        : { status: 200, contentType: JSON_TYPE, body: info() + "\n" },
  }],
  ["/faults", {
    get: ({ faults }) =>
      faults === undefined
        ? undefined
        : { status: 200, contentType: JSON_TYPE, body: faults.show() + "\n" },
    put: ({ faults }, body, host) => {
      if (faults === undefined) return undefined;
      if (faults.change === undefined) {
        return {
          status: 403,
          contentType: TEXT,
          body: "faults are read-only: start the server with --admin-faults\n",
        };
      }
      if (!addressedDirectly(host)) {
        return {
          status: 403,
          contentType: TEXT,
          body:
            "PUT /faults needs Host to be localhost or an IP address (a web page must not reach it by a name it controls)\n",
        };
      }
      const changed = faults.change(body);
      return "error" in changed
        ? { status: 400, contentType: TEXT, body: `${changed.error}\n` }
        : { status: 200, contentType: JSON_TYPE, body: changed.json + "\n" };
    },
  }],
]);

const REASONS = new Map<number, string>([
  [200, "OK"],
  [400, "Bad Request"],
  [403, "Forbidden"],
  [404, "Not Found"],
  [405, "Method Not Allowed"],
  [413, "Content Too Large"],
  [431, "Request Header Fields Too Large"],
  [503, "Service Unavailable"],
]);

const encoder = new TextEncoder();

const NOT_FOUND: Reply = {
  status: 404,
  contentType: TEXT,
  body: "not found\n",
};

/**
 * The whole response (head and, unless `HEAD`, body) to `request`, whose
 * body (for `PUT`) is `body`.
 */
export function respond(
  request: Pick<RequestHead, "method" | "path" | "host">,
  sources: RouteSources,
  body = "",
): Uint8Array {
  const route = ROUTES.get(request.path);
  const shown = route?.get(sources);
  if (route === undefined || shown === undefined) return http(NOT_FOUND);
  const { method } = request;
  if (method === "GET" || method === "HEAD") {
    return http(shown, "", method === "HEAD");
  }
  if (method === "PUT" && route.put !== undefined) {
    return http(route.put(sources, body, request.host) ?? NOT_FOUND);
  }
  return http(
    { status: 405, contentType: TEXT, body: "method not allowed\n" },
    `Allow: GET, HEAD${route.put === undefined ? "" : ", PUT"}\r\n`,
  );
}

/**
 * Whether a request names the admin endpoint by `localhost` or an address
 * (or names nothing, as scripts may). A web page that rebinds a name it
 * controls to 127.0.0.1 (DNS rebinding) sends that name as `Host`: its
 * browser would otherwise let it `PUT` faults to a local admin port.
 */
function addressedDirectly(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.replace(/:\d+$/, "");
  return name === "localhost" || /^\d{1,3}(\.\d{1,3}){3}$/.test(name) ||
    /^\[[0-9a-fA-F:.]+\]$/.test(name);
}

/**
 * The response to a head that could not be parsed (400), a head too large
 * (431), or a body too large (413).
 */
export function refuse(status: 400 | 413 | 431): Uint8Array {
  const body = status === 400
    ? "bad request\n"
    : status === 413
    ? `request body too large: at most ${MAX_REQUEST_BODY} bytes\n`
    : "request head too large\n";
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
