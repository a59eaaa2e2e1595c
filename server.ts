/**
 * `echo-server`: parse flags, listen, serve until SIGINT/SIGTERM, drain,
 * report. The work lives in `lib/`; this file maps outcomes to exit codes.
 *
 * @module
 */

import { type Endpoint, formatAddress } from "./lib/address.ts";
import { serveEcho, type ServeSummary } from "./lib/echo_server.ts";
import { type EchoWorkers, startEchoWorkers } from "./lib/worker_pool.ts";
import { ExitCode } from "./lib/exit_codes.ts";
import { Logger } from "./lib/logger.ts";
import {
  parseServerArgs,
  SERVER_HELP,
  type ServerArgs,
} from "./lib/server_args.ts";
import { reportFailure } from "./lib/report_failure.ts";
import { removeSocketOnExit, removeStaleSocket } from "./lib/unix_socket.ts";
import { writeStdout } from "./lib/_stdio.ts";
import { VERSION } from "./lib/version.ts";

/**
 * Runs `echo-server` with `args`.
 *
 * @param args Command-line arguments, without the program name.
 * @returns The process exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseServerArgs(args);
  } catch (error) {
    return reportFailure(error, "", false);
  }
  switch (parsed.kind) {
    case "help":
      writeStdout(SERVER_HELP);
      return ExitCode.Ok;
    case "version":
      writeStdout(`echo-server ${VERSION}\n`);
      return ExitCode.Ok;
    case "serve":
      return await serve(parsed.args);
  }
}

async function serve(args: ServerArgs): Promise<number> {
  const { endpoint } = args;
  const requested = formatAddress(endpoint);
  let listener: Deno.Listener;
  try {
    listener = await listen(endpoint, args.workers > 1);
  } catch (error) {
    return reportFailure(error, requested, args.verbose);
  }
  using _socketFile = endpoint.transport === "unix"
    ? removeSocketOnExit(endpoint.path)
    : undefined;
  using _ = listener;
  const log = { format: args.logFormat, quiet: args.quiet };
  const logger = new Logger(
    args.workers > 1 ? { ...log, context: { worker: 1 } } : log,
  );
  const options = {
    drainTimeout: args.drainTimeout,
    idleTimeout: args.idleTimeout,
    maxConnections: Math.ceil(args.maxConnections / args.workers),
    maxBufferSize: args.maxBufferSize,
  };
  let workers: EchoWorkers | undefined;
  if (args.workers > 1) {
    try {
      workers = await startEchoWorkers(args.workers - 1, {
        host: (listener.addr as Deno.NetAddr).hostname,
        port: (listener.addr as Deno.NetAddr).port,
        worker: 2,
        options,
        log,
      });
    } catch (error) {
      return reportFailure(error, requested, args.verbose);
    }
  }
  writeStdout(`listening on ${formatAddress(listener.addr)}\n`);

  const stop = new AbortController();
  using _signals = onShutdownSignals((signal) => {
    if (stop.signal.aborted) Deno.exit(exitCodeFor(signal));
    logger.event("shutdown", { signal, drain_timeout_ms: args.drainTimeout });
    stop.abort();
  });
  const stopWorkers = new Promise<ServeSummary[]>((resolve, reject) => {
    stop.signal.addEventListener("abort", () => {
      (workers?.stop() ?? Promise.resolve([])).then(resolve, reject);
    }, { once: true });
  });
  const main = await serveEcho(listener, {
    ...options,
    signal: stop.signal,
    logger,
  });
  const summary = [main, ...await stopWorkers].reduce((total, part) => ({
    connections: total.connections + part.connections,
    refused: total.refused + part.refused,
    bytesEchoed: total.bytesEchoed + part.bytesEchoed,
  }));
  // The totals cover every worker, so they are not logged as worker 1's.
  new Logger(log).event("stopped", {
    connections: summary.connections,
    refused: summary.refused,
    bytes_echoed: summary.bytesEchoed,
  });
  return ExitCode.Ok;
}

async function listen(
  endpoint: Endpoint,
  reusePort: boolean,
): Promise<Deno.Listener> {
  if (endpoint.transport === "unix") {
    await removeStaleSocket(endpoint.path);
    return Deno.listen(endpoint);
  }
  return Deno.listen({ ...endpoint, reusePort });
}

/** The signals that ask for a graceful shutdown on this platform. */
function shutdownSignals(): Deno.Signal[] {
  return Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
}

function exitCodeFor(signal: Deno.Signal): number {
  return signal === "SIGTERM" ? ExitCode.Terminated : ExitCode.Interrupted;
}

function onShutdownSignals(
  handler: (signal: Deno.Signal) => void,
): Disposable {
  const listeners = shutdownSignals().map((signal) => {
    const listener = () => handler(signal);
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  return {
    [Symbol.dispose](): void {
      for (const { signal, listener } of listeners) {
        Deno.removeSignalListener(signal, listener);
      }
    },
  };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
