/**
 * The admin endpoint: `GET /healthz`, `GET /readyz`, `GET /metrics` and
 * `GET /info` (and `HEAD` on each) over HTTP/1.1, for load balancer
 * probes, Kubernetes, Prometheus and people; `/faults` with fault
 * injection.
 *
 * Anyone who can reach the port can send it anything, and probes must
 * still be answered while some clients misbehave, so every connection is
 * bounded: one request per connection (`Connection: close`), its head
 * within `headerTimeout` and 8 KiB, strictly parsed, the answer within
 * `timeout`, at most `maxConnections` at once. A connection that arrives
 * when all slots are taken replaces the oldest one that has not sent a
 * complete request head yet, once that one has had `evictionGrace`: silent
 * and trickling clients hold a slot only until newer clients need it, so a
 * probe that sends its request at once gets through even among thousands
 * of idle connections.
 *
 * Measured (loopback, one process of clients): with 1,000 idle and 100
 * trickling connections, every probe was answered 200 (median 4 to 6 ms,
 * slowest 190 ms); the server held at most 65 of them and had closed all
 * 1,100 within 4 s. `Deno.serve` answered the same probes (median 1 ms),
 * but it has neither a connection limit nor a header deadline: it held all
 * 1,100 connections, and their descriptors, which the echo service needs,
 * until the clients left. Under 200 or 400 clients reconnecting as fast as
 * they could, evicting without a grace period lost two probes in three
 * (closed before their request was read); with 100 ms, none, each answered
 * within 0.3 s (200 clients) or 0.6 s (400).
 *
 * It runs in the main thread, apart from the Workers that serve echo, so a
 * slow or hostile HTTP client cannot stall echo; an `accept()` failure
 * (descriptors exhausted by echo clients) pauses it and never ends it.
 *
 * @module
 */

import {
  acceptConnections,
  type AcceptError,
  type AcceptErrorKind,
  closeQuietly,
  delay,
  writeAll,
} from "../net/mod.ts";
import { type HeadResult, readRequestHead } from "./_request_head.ts";
import {
  type FaultsRoute,
  MAX_REQUEST_BODY,
  refuse,
  respond,
} from "./_routes.ts";

export type { FaultsRoute } from "./_routes.ts";

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
   * `GET /faults` shows the faults in force; `PUT /faults` replaces them
   * if `change` is given (403 otherwise).
   * @default {no /faults route}
   */
  faults?: FaultsRoute;
  /**
   * `GET /info`: the server's version, host, listeners and settings, as
   * JSON. Nothing secret goes in it: anyone who reaches the port reads it.
   * @default {no /info route}
   */
  info?: () => string;
  /**
   * Admin connections open at once (each holds a descriptor and a buffer of
   * 1 to 8 KiB), plus the one being accepted. When all are taken, a new
   * connection replaces the oldest one still waiting for its request head
   * (see `evictionGrace`); if every one is past its head (being answered),
   * the new one is closed at once. Replacing costs a reconnecting idle
   * client nothing and queues probes behind its reconnects, so the cap is
   * well above what probes and scrapes need: in the soak (310 idle and
   * trickling admin clients), `/healthz` p99 was 417 ms with 64 and 52 ms
   * with 256.
   * @default {256}
   */
  maxConnections?: number;
  /**
   * A connection still waiting for its request head is replaced only once
   * it has had this many ms: time for a probe's request to arrive behind
   * its connection, and for the server to read it, during a flood of new
   * connections. While every waiting connection is younger, new ones wait
   * in the kernel's accept queue.
   * @default {100}
   */
  evictionGrace?: number;
  /**
   * The request head must have arrived this many ms after the connection
   * was accepted, or the connection is closed unanswered.
   * @default {2000}
   */
  headerTimeout?: number;
  /**
   * A request must arrive and be answered within this many ms of the
   * connection being accepted, or the connection is closed.
   * @default {5000}
   */
  timeout?: number;
  /**
   * Called for every failed `accept()` (see {@linkcode acceptConnections});
   * the server retries, backing off when out of descriptors or memory.
   * Report `error`'s message, not its stack: see `lib/net/accept_loop.ts`.
   * What it throws is ignored.
   * @default {nothing is reported; see `AdminServer.acceptErrors`}
   */
  onAcceptError?: (failure: AcceptError) => void;
}

/** A running admin server. */
export interface AdminServer extends AsyncDisposable {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /** Failed accepts so far, by whom they concerned. */
  readonly acceptErrors: Readonly<Record<AcceptErrorKind, number>>;
  /**
   * Connections closed unanswered to make room for a newer one, or at once
   * because every slot was being answered.
   */
  readonly evicted: number;
}

/** A connection and how far it got. */
interface Slot {
  conn: Deno.Conn;
  /** When it was accepted (`performance.now()`). */
  acceptedAt: number;
  /** Its request head has arrived: it is being answered, not evictable. */
  headDone: boolean;
}

/**
 * Listens on `options.hostname:options.port` and answers probes and
 * scrapes until disposed; disposing closes every admin connection at once.
 * Never rejects or throws after it has started: a connection's error ends
 * that connection, an accept error is counted and retried.
 *
 * @param options Address, state callbacks and limits.
 * @returns The server, listening.
 * @throws {Deno.errors.AddrInUse} And the other listen errors.
 *
 * @example
 * ```ts
 * import { startAdminServer } from "./admin_server.ts";
 * import assert from "node:assert/strict";
 *
 * await using admin = startAdminServer({
 *   hostname: "127.0.0.1", port: 0, ready: () => true,
 *   metrics: () => "", metricsContentType: "text/plain",
 * });
 * using conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.addr.port });
 * await conn.write(new TextEncoder().encode("HEAD /healthz HTTP/1.1\r\n\r\n"));
 * const response = new Uint8Array(1024);
 * const n = await conn.read(response) ?? 0;
 * const text = new TextDecoder().decode(response.subarray(0, n));
 * assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
 * ```
 */
// One function on purpose: the accept loop, the slots and their eviction
// share one set of connections; request parsing and routing are in
// _request_head.ts and _routes.ts.
export function startAdminServer(options: AdminServerOptions): AdminServer {
  const {
    maxConnections = 256,
    evictionGrace = 100,
    headerTimeout = 2_000,
    timeout = 5_000,
  } = options;
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
  });
  const stopping = new AbortController();
  const acceptErrors = { connection: 0, exhausted: 0, other: 0 };
  let evicted = 0;
  // In arrival order: the first slot still waiting is the oldest.
  const slots = new Set<Slot>();
  const tasks = new Set<Promise<void>>();

  // Frees a slot for a new connection; false if none can be freed.
  const makeRoom = async (): Promise<boolean> => {
    while (slots.size >= maxConnections && !stopping.signal.aborted) {
      let oldest: Slot | undefined;
      for (const slot of slots) {
        if (!slot.headDone) {
          oldest = slot;
          break;
        }
      }
      if (oldest === undefined) return false;
      const age = performance.now() - oldest.acceptedAt;
      if (age < evictionGrace) {
        // Also lets the event loop read the heads that have arrived: a
        // burst of accepts alone would evict them unread.
        await delay(evictionGrace - age, stopping.signal);
        continue;
      }
      slots.delete(oldest);
      closeQuietly(oldest.conn);
      evicted++;
    }
    return !stopping.signal.aborted;
  };

  const accepting = (async () => {
    const connections = acceptConnections(listener, {
      signal: stopping.signal,
      onError: (failure) => {
        acceptErrors[failure.kind]++;
        try {
          options.onAcceptError?.(failure);
        } catch {
          // A reporting failure must not end the admin endpoint.
        }
      },
    });
    for await (const conn of connections) {
      if (!(await makeRoom())) {
        closeQuietly(conn);
        evicted++;
        continue;
      }
      const slot: Slot = {
        conn,
        acceptedAt: performance.now(),
        headDone: false,
      };
      slots.add(slot);
      const task = answer(slot, options, headerTimeout, timeout).finally(
        () => {
          slots.delete(slot);
          tasks.delete(task);
        },
      );
      tasks.add(task);
    }
  })();

  return {
    addr: listener.addr,
    acceptErrors,
    get evicted(): number {
      return evicted;
    },
    async [Symbol.asyncDispose](): Promise<void> {
      stopping.abort(); // closes the listener
      await accepting;
      // Shutdown waits for no peer: a probe cut short now loses nothing.
      for (const slot of slots) closeQuietly(slot.conn);
      await Promise.all(tasks);
    },
  };
}

const bodyDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The request body: `length` bytes, starting with `rest` (read with the
 * head); undefined if the peer ends first or it is not UTF-8. Bytes past
 * `length` are ignored, like a pipelined request.
 */
async function readBody(
  conn: Deno.Conn,
  rest: Uint8Array,
  length: number,
): Promise<string | undefined> {
  const body = new Uint8Array(length);
  let filled = Math.min(rest.length, length);
  body.set(rest.subarray(0, filled));
  while (filled < length) {
    const n = await conn.read(body.subarray(filled));
    if (n === null) return undefined;
    filled += n;
  }
  try {
    return bodyDecoder.decode(body);
  } catch {
    return undefined;
  }
}

/**
 * Reads one request head and answers it, within the deadlines; any
 * failure (a reset, a deadline, an eviction) just ends the connection.
 */
async function answer(
  slot: Slot,
  options: AdminServerOptions,
  headerTimeout: number,
  timeout: number,
): Promise<void> {
  using conn = slot.conn;
  const acceptedAt = performance.now();
  let deadline = setTimeout(
    () => closeQuietly(conn),
    Math.min(headerTimeout, timeout),
  );
  try {
    let head: HeadResult;
    let body: string | undefined = "";
    try {
      head = await readRequestHead(conn);
      // The body (4 KiB at most) is read under the head's deadline, and
      // the connection can still be evicted meanwhile: a slow body holds
      // no slot that a probe needs.
      if (
        typeof head === "object" && head.contentLength > 0 &&
        head.contentLength <= MAX_REQUEST_BODY
      ) {
        body = await readBody(conn, head.rest, head.contentLength);
      }
    } catch {
      return; // reset, or closed by its deadline or to make room
    }
    if (head === undefined) return;
    slot.headDone = true;
    clearTimeout(deadline);
    deadline = setTimeout(
      () => closeQuietly(conn),
      Math.max(0, timeout - (performance.now() - acceptedAt)),
    );
    const response = typeof head === "number"
      ? refuse(head)
      : head.contentLength > MAX_REQUEST_BODY
      ? refuse(413)
      : body === undefined
      ? refuse(400)
      : respond(head, options, body);
    await writeAll(conn, response);
  } catch {
    // A reader too slow for the deadline, a reset, or a `metrics()` that
    // threw: this connection ends unanswered, the server carries on.
  } finally {
    clearTimeout(deadline);
  }
}
