/**
 * The body of one `--workers` thread: listen on the shared port with
 * `reusePort` and serve echo until told to stop. Started by
 * {@linkcode startEchoWorkers}; not meant to be imported.
 *
 * @module
 */

import { serveEcho } from "./echo_server.ts";
import { BufferBudget } from "./buffer_budget.ts";
import { openListeners, type StreamListener } from "../net/mod.ts";
import { LOG_FLUSH_TIMEOUT_MS, Logger, stderrLines } from "../log/mod.ts";
import type { WorkerReport, WorkerSettings } from "./_worker_messages.ts";

// This module runs as a Worker: `self` is its scope, not a Window.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerSettings | "stop">) => void) | null;
  postMessage(message: WorkerReport): void;
  close(): void;
};

const stop = new AbortController();

scope.onmessage = (event) => {
  if (event.data === "stop") {
    stop.abort();
    return;
  }
  serve(event.data).catch((error) => {
    scope.postMessage({
      type: "failed",
      message: error instanceof Error ? error.message : String(error),
    });
    scope.close();
  });
};

async function serve(settings: WorkerSettings): Promise<void> {
  using listeners = await openListeners({
    endpoint: {
      transport: "tcp",
      hostname: settings.host,
      port: settings.port,
    },
    stream: true,
    udp: false,
    reusePort: true,
    ...(settings.tls !== undefined && { tls: settings.tls }),
  });
  const listener = listeners.stream as StreamListener;
  scope.postMessage({ type: "listening" });
  const summary = await serveEcho(listener, {
    ...settings.options,
    budget: new BufferBudget(settings.budget.limit, settings.budget.counters),
    signal: stop.signal,
    logger: new Logger({
      ...settings.log,
      context: { worker: settings.worker },
    }),
  });
  // Log lines still queued would be lost when the thread ends.
  await stderrLines.flush(LOG_FLUSH_TIMEOUT_MS);
  scope.postMessage({
    type: "stopped",
    summary,
    logLinesDropped: stderrLines.dropped,
  });
  scope.close();
}
