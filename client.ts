/**
 * `echo-client`: parse flags, connect, send a message or stream stdin,
 * verify the echo. The work lives in `lib/`; this file maps outcomes to
 * exit codes.
 *
 * @module
 */

import {
  connectWithTimeout,
  EchoMismatchError,
  formatAddress,
  MAX_UDP_PAYLOAD,
  type TlsClientOptions,
  writeAll,
} from "./lib/net/mod.ts";
import {
  BENCH_HELP,
  CLIENT_HELP,
  type ClientArgs,
  type ClientTlsArgs,
  ExitCode,
  LiveProgress,
  parseBenchArgs,
  parseClientArgs,
  parsePingArgs,
  PING_HELP,
  ProgressLine,
  readPemFile,
  reportFailure,
  VERSION,
} from "./lib/cli/mod.ts";
import {
  echoMessage,
  echoStream,
  type EchoStreamProgress,
  udpEcho,
} from "./lib/client/mod.ts";
import {
  formatProbe,
  formatSummary,
  runPing,
  summaryToJson,
} from "./lib/ping/mod.ts";
import {
  formatReport,
  LatencyHistogram,
  type LoadProgress,
  reportToJson,
  runLoad,
} from "./lib/bench/mod.ts";
import { writeStderr, writeStdout } from "./lib/log/mod.ts";

/**
 * Runs `echo-client` with `args`.
 *
 * @param args Command-line arguments, without the program name.
 * @returns The process exit code.
 */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "bench") return await bench(args.slice(1));
  if (args[0] === "ping") return await ping(args.slice(1));
  let parsed;
  try {
    parsed = parseClientArgs(args);
  } catch (error) {
    return reportFailure(error, "", false);
  }
  switch (parsed.kind) {
    case "help":
      writeStdout(CLIENT_HELP);
      return ExitCode.Ok;
    case "version":
      writeStdout(`echo-client ${VERSION}\n`);
      return ExitCode.Ok;
    case "echo": {
      const { endpoint, verbose } = parsed.args;
      const address = formatAddress(endpoint);
      try {
        await run(parsed.args, address);
        return ExitCode.Ok;
      } catch (error) {
        return reportFailure(error, address, verbose);
      }
    }
  }
}

async function run(args: ClientArgs, address: string): Promise<void> {
  if (args.udp) return await runUdp(args);
  using conn = await connectWithTimeout(args.endpoint, {
    timeout: args.timeout,
    ...(args.tls !== undefined && { tls: await tlsOptions(args.tls) }),
  });
  if (args.verbose && "handshake" in conn) {
    const { alpnProtocol } = await (conn as Deno.TlsConn).handshake();
    writeStderr(
      `tls: handshake done, certificate verified, alpn=${
        alpnProtocol ?? "none"
      }\n`,
    );
  }
  if (args.message.length > 0) {
    const text = args.message.join(" ") + (args.newline ? "\n" : "");
    try {
      const echo = await echoMessage(conn, new TextEncoder().encode(text), {
        timeout: args.timeout,
      });
      await writeAll(Deno.stdout, echo);
      // End cleanly: over TLS this sends close_notify, so the server can
      // tell a finished client from a truncated stream. The echo is already
      // verified, so a server that has gone meanwhile is not an error.
      await conn.closeWrite().catch(() => {});
    } catch (error) {
      // Show what did come back: it is the evidence for the mismatch.
      if (error instanceof EchoMismatchError) {
        await writeAll(Deno.stdout, error.received);
      }
      throw error;
    }
    return;
  }
  const interactive = Deno.stdin.isTerminal();
  if (interactive && !args.quiet) {
    writeStderr(`connected to ${address}: type lines to echo, Ctrl-D ends\n`);
  }
  const progress: EchoStreamProgress = { bytesSent: 0, bytesVerified: 0 };
  using _line = !interactive && !args.quiet && Deno.stderr.isTerminal()
    ? new ProgressLine(progress)
    : undefined;
  await echoStream(conn, Deno.stdin.readable, {
    timeout: args.timeout,
    window: args.window,
    progress,
    onEcho: (echo) => writeAll(Deno.stdout, echo),
  });
}

async function tlsOptions(tls: ClientTlsArgs): Promise<TlsClientOptions> {
  return {
    ...(tls.caFile !== undefined &&
      { caCerts: [await readPemFile("ca", tls.caFile)] }),
    ...(tls.serverName !== undefined && { serverName: tls.serverName }),
    ...(tls.alpn !== undefined && { alpnProtocols: tls.alpn }),
  };
}

async function runUdp(args: ClientArgs): Promise<void> {
  const { endpoint } = args;
  if (endpoint.transport !== "tcp") return; // refused by parseClientArgs
  const datagram = args.message.length > 0
    ? new TextEncoder().encode(
      args.message.join(" ") + (args.newline ? "\n" : ""),
    )
    : await readStdinUpTo(MAX_UDP_PAYLOAD + 1);
  try {
    const { echo } = await udpEcho(endpoint, datagram, {
      timeout: args.timeout,
      retries: args.retries,
    });
    await writeAll(Deno.stdout, echo);
  } catch (error) {
    if (error instanceof EchoMismatchError) {
      await writeAll(Deno.stdout, error.received);
    }
    throw error;
  }
}

/** Reads stdin to its end, or until `limit` bytes (enough to say "too big"). */
async function readStdinUpTo(limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of Deno.stdin.readable) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= limit) break;
  }
  const all = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

async function ping(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parsePingArgs(args);
  } catch (error) {
    return reportFailure(error, "", false);
  }
  if (parsed.kind === "help") {
    writeStdout(PING_HELP);
    return ExitCode.Ok;
  }
  const options = parsed.args;
  const target = `${options.udp ? "udp " : options.tls ? "tls " : ""}${
    formatAddress(options.endpoint)
  }`;
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt); // Ctrl-C: stop, summarize
  try {
    const summary = await runPing({
      endpoint: options.endpoint,
      udp: options.udp,
      ...(options.tls !== undefined && { tls: await tlsOptions(options.tls) }),
      reconnect: options.reconnect,
      count: options.count,
      interval: options.interval,
      size: options.size,
      timeout: options.timeout,
      signal: stop.signal,
      ...(!options.json &&
        { onProbe: (probe) => writeStdout(formatProbe(probe) + "\n") }),
    });
    writeStdout(
      options.json
        ? JSON.stringify(summaryToJson(target, summary)) + "\n"
        : formatSummary(target, summary),
    );
    return summary.sent > 0 && summary.received === summary.sent
      ? ExitCode.Ok
      : ExitCode.EchoMismatch;
  } catch (error) {
    return reportFailure(error, formatAddress(options.endpoint), false);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

async function bench(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseBenchArgs(args);
  } catch (error) {
    return reportFailure(error, "", false);
  }
  if (parsed.kind === "help") {
    writeStdout(BENCH_HELP);
    return ExitCode.Ok;
  }
  const { args: options } = parsed;
  const progress: LoadProgress = {
    completed: 0,
    bytesVerified: 0,
    errors: 0,
    latency: new LatencyHistogram(),
  };
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt); // Ctrl-C: stop and report
  using _live = !options.quiet && Deno.stderr.isTerminal()
    ? new LiveProgress(progress)
    : undefined;
  const report = await runLoad({
    ...options,
    progress,
    signal: stop.signal,
  }).finally(() => Deno.removeSignalListener("SIGINT", onInterrupt));
  _live?.[Symbol.dispose]();
  writeStdout(
    options.json
      ? JSON.stringify(reportToJson(report)) + "\n"
      : formatReport(report),
  );
  return report.errors + report.mismatches === 0 && report.completed > 0
    ? ExitCode.Ok
    : ExitCode.EchoMismatch;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
