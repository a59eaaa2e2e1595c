/**
 * `echo-server`: parse flags, listen, serve until SIGINT/SIGTERM, drain,
 * report. The work lives in `lib/`; this file maps outcomes to exit codes.
 *
 * @module
 */

import {
  type Endpoint,
  formatAddress,
  isLoopback,
  type Listeners,
  openListeners,
  type TlsSettings,
} from "./lib/net/mod.ts";
import {
  type EchoWorkers,
  serveEcho,
  type ServeSummary,
  serveUdpEcho,
  startEchoWorkers,
} from "./lib/server/mod.ts";
import {
  ExitCode,
  parseServerArgs,
  readPemFile,
  reportFailure,
  SERVER_HELP,
  type ServerArgs,
  VERSION,
} from "./lib/cli/mod.ts";
import { Logger, writeStdout } from "./lib/log/mod.ts";
import {
  type CertifiedKey,
  checkCertifiedKey,
  fingerprint,
  generateSelfSigned,
} from "./lib/tls/mod.ts";

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
  let listeners: Listeners;
  let tls: TlsSettings | undefined;
  try {
    tls = args.tls === undefined ? undefined : await loadTls(args);
    listeners = await openListeners({
      endpoint,
      stream: args.tcp,
      udp: args.udp,
      reusePort: args.workers > 1,
      ...(tls !== undefined && { tls }),
    });
  } catch (error) {
    return reportFailure(error, requested, args.verbose);
  }
  using _listeners = listeners;
  const { stream, datagram } = listeners;
  const log = { format: args.logFormat, quiet: args.quiet };
  const logger = new Logger(
    args.workers > 1 ? { ...log, context: { worker: 1 } } : log,
  );
  const options = {
    drainTimeout: args.drainTimeout,
    idleTimeout: args.idleTimeout,
    maxConnections: Math.ceil(args.maxConnections / args.workers),
    maxBufferSize: args.maxBufferSize,
    handshakeTimeout: args.handshakeTimeout,
  };
  let workers: EchoWorkers | undefined;
  if (stream !== undefined && args.workers > 1) {
    try {
      workers = await startEchoWorkers(args.workers - 1, {
        host: (stream.addr as Deno.NetAddr).hostname,
        port: (stream.addr as Deno.NetAddr).port,
        worker: 2,
        options,
        log,
        ...(tls !== undefined && { tls }),
      });
    } catch (error) {
      return reportFailure(error, requested, args.verbose);
    }
  }
  if (stream !== undefined) {
    const protocol = tls === undefined ? "" : "tls ";
    writeStdout(`listening on ${protocol}${formatAddress(stream.addr)}\n`);
  }
  if (tls !== undefined) {
    writeStdout(`tls certificate sha256 ${await fingerprint(tls.cert)}\n`);
  }
  if (datagram !== undefined) {
    writeStdout(`listening on udp ${formatAddress(datagram.addr)}\n`);
    if (!isLoopback((datagram.addr as Deno.NetAddr).hostname)) {
      logger.event("warning", {
        message:
          "UDP echo on a non-loopback address can be used for reflection attacks; --udp-rate caps each source",
        udp_rate_per_s: args.udpRate,
      });
    }
  }

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
  const [main, udp] = await Promise.all([
    stream === undefined
      ? undefined
      : serveEcho(stream, { ...options, signal: stop.signal, logger }),
    datagram === undefined ? undefined : serveUdpEcho(datagram, {
      signal: stop.signal,
      rate: args.udpRate,
      logger,
    }),
  ]);
  const summary = [main, ...await stopWorkers].reduce<ServeSummary>(
    (total, part) => ({
      connections: total.connections + (part?.connections ?? 0),
      refused: total.refused + (part?.refused ?? 0),
      bytesEchoed: total.bytesEchoed + (part?.bytesEchoed ?? 0),
    }),
    { connections: 0, refused: 0, bytesEchoed: 0 },
  );
  // The totals cover every worker, so they are not logged as worker 1's.
  new Logger(log).event("stopped", {
    ...(stream !== undefined && {
      connections: summary.connections,
      refused: summary.refused,
      bytes_echoed: summary.bytesEchoed,
    }),
    ...(udp !== undefined && {
      udp_datagrams: udp.datagrams,
      udp_bytes_echoed: udp.bytesEchoed,
      udp_oversized: udp.oversized,
      udp_rate_limited: udp.rateLimited,
    }),
  });
  return ExitCode.Ok;
}

/**
 * The TLS certificate and key: read from the given files, or generated for
 * the names clients will use, and checked by a trial listen so that a key
 * that does not match its certificate fails here with a clear message.
 */
async function loadTls(args: ServerArgs): Promise<TlsSettings> {
  const source = args.tls;
  let material: CertifiedKey;
  if (source?.kind === "files") {
    material = {
      cert: await readPemFile("tls-cert", source.certFile),
      key: await readPemFile("tls-key", source.keyFile),
    };
  } else {
    material = await generateSelfSigned(certificateNames(args.endpoint));
    if (source?.certOut !== undefined) {
      await Deno.writeTextFile(source.certOut, material.cert);
    }
  }
  checkCertifiedKey(material);
  return {
    ...material,
    ...(args.alpn !== undefined && { alpnProtocols: args.alpn }),
  };
}

/** The names a generated certificate covers: what clients will dial. */
function certificateNames(endpoint: Endpoint): string[] {
  const host = endpoint.transport === "tcp" ? endpoint.hostname : "localhost";
  const local = ["localhost", "127.0.0.1", "::1"];
  if (host === "0.0.0.0" || host === "::") return local;
  return isLoopback(host) ? [...new Set([host, ...local])] : [host];
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
