/**
 * `deno task soak [--duration 60s] [--json]`: starts a plain and a TLS echo
 * server (server.ts), runs the hostile mix of lib/soak against them while
 * probes verify every byte, watches the servers' memory and descriptors,
 * stops them with SIGTERM, and prints a table. The plain server takes PROXY
 * headers only from 127.0.0.2 (the soak's trusted proxy; everything else
 * connects from 127.0.0.1 and must be served, or refused, under its own
 * address) and serves the admin endpoint. Exit code 0 only if every probe
 * (echo, proxied echo, /healthz) succeeded, no forged PROXY header got an
 * echo, and both servers exited 0. The task runs this
 * process with DENO_TOKIO_MAX_IO_EVENTS_PER_TICK=128 (see
 * lib/net/fair_scheduling.ts), so the probes' times are not the runtime's.
 *
 * @module
 */

import { parseFlagValue, positiveDuration } from "../lib/cli/mod.ts";
import { runTool } from "./_tool_command.ts";
import { writeStderr, writeStdout } from "../lib/log/mod.ts";
import {
  formatSoakReport,
  runSoak,
  type ServerObservation,
  soakPassed,
  soakToJson,
} from "../lib/soak/mod.ts";

const SERVER = new URL("../server.ts", import.meta.url).pathname;
const LIB = new URL("../lib", import.meta.url).pathname;
const SAMPLE_INTERVAL_MS = 250;
/**
 * The soak's trusted proxy: a loopback address other than 127.0.0.1 (Linux
 * routes all of 127.0.0.0/8 to the loopback interface), so that one
 * process can be both a trusted proxy and untrusted clients.
 */
const TRUSTED_PROXY = "127.0.0.2";
const LISTENING = /^listening on (?:tls )?\S+:(\d+)$/m;
const ADMIN_LISTENING = /^admin listening on http:\/\/\S+:(\d+)$/m;

/** A server process under observation. */
interface WatchedServer extends AsyncDisposable {
  port: number;
  /** The admin endpoint's port, if it was asked for. */
  adminPort: number | undefined;
  /** Stops it with SIGTERM and returns what was seen. */
  stop(): Promise<ServerObservation>;
}

/** What `command path` prints; empty if it fails (the process is gone). */
async function output(command: string, path: string): Promise<string> {
  const { stdout, success } = await new Deno.Command(command, {
    args: [path],
    stderr: "null",
  }).output();
  return success ? new TextDecoder().decode(stdout) : "";
}

async function startServer(
  args: string[],
  withAdmin = false,
): Promise<WatchedServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-write",
      `--allow-read=${LIB}`,
      "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK",
      SERVER,
      "--port",
      "0",
      "--quiet",
      "--log-format",
      "json",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  // The admin line comes last, after the listening and fingerprint lines.
  const started = withAdmin ? ADMIN_LISTENING : LISTENING;
  while (!started.test(printed) || !printed.endsWith("\n")) {
    const { value, done } = await stdout.read();
    if (done) throw new Error(`server did not start: ${printed}`);
    printed += value;
  }
  const port = Number(LISTENING.exec(printed)?.[1]);
  const adminPort = withAdmin
    ? Number(ADMIN_LISTENING.exec(printed)?.[1])
    : undefined;
  // Keep only the last line of the log: the shutdown summary.
  let lastLine = "";
  const stderr = (async () => {
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      const lines = text.trimEnd().split("\n");
      lastLine = lines.at(-1) || lastLine;
    }
  })();
  const drainStdout = (async () => {
    while (!(await stdout.read()).done) { /* the fingerprint line */ }
  })();
  const seen = { rss: 0, descriptors: 0 };
  const sample = async () => {
    // Deno wants --allow-all to read another process's /proc entries;
    // cat and ls need only --allow-run.
    const [status, fds] = await Promise.all([
      output("cat", `/proc/${child.pid}/status`),
      output("ls", `/proc/${child.pid}/fd`),
    ]);
    seen.rss = Math.max(
      seen.rss,
      Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024,
    );
    seen.descriptors = Math.max(
      seen.descriptors,
      fds.split("\n").filter(Boolean).length,
    );
  };
  let sampling = sample();
  const timer = setInterval(() => {
    sampling = sampling.then(sample);
  }, SAMPLE_INTERVAL_MS);
  let stopped: Promise<ServerObservation> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      clearInterval(timer);
      await sampling;
      child.kill("SIGTERM");
      const { code } = await child.status;
      await Promise.all([stderr, drainStdout]);
      const summary = JSON.parse(lastLine || "{}");
      return {
        peakRssBytes: seen.rss,
        peakDescriptors: seen.descriptors,
        bufferPeakBytes: summary.buffer_peak_bytes ?? 0,
        bufferBudgetBytes: summary.buffer_budget_bytes ?? 0,
        acceptErrors: summary.accept_errors ?? 0,
        refused: summary.refused ?? 0,
        exitCode: code,
      };
    })();
  return {
    port,
    adminPort,
    stop,
    async [Symbol.asyncDispose](): Promise<void> {
      await stop();
    },
  };
}

const HELP =
  `deno task soak: a hostile mix against a plain and a TLS echo server,
while probes verify that everyone else is still served

Usage: deno task soak [--duration DURATION] [--json]

Options:
  --duration DURATION  How long to run, e.g. 30s or 2m (default: 60s)
  --json               The report as one JSON object on stdout
  -h, --help           Show this help

Exit codes: 0 every probe passed and both servers exited 0 after SIGTERM,
1 otherwise, 2 usage.
`;

function main(args: string[]): Promise<number> {
  return runTool(args, {
    help: HELP,
    flags: { duration: { type: "string" }, json: { type: "boolean" } },
    run: (values) =>
      soak(
        parseFlagValue(
          "duration",
          (values.duration as string | undefined) ?? "60s",
          positiveDuration,
        ),
        values.json === true,
      ),
  });
}

/** Runs the soak for `duration` ms; the exit code. */
async function soak(duration: number, json: boolean): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "echo-soak-" });
  try {
    const certFile = `${dir}/cert.pem`;
    await using tcp = await startServer([
      "--proxy-protocol",
      "--proxy-optional",
      "--proxy-from",
      TRUSTED_PROXY,
      "--admin-port",
      "0",
    ], true);
    await using tls = await startServer([
      "--tls",
      "--tls-cert-out",
      certFile,
      // Short enough that silent clients come and go several times a run,
      // long enough for a real client on a saturated two-core machine.
      "--handshake-timeout",
      "5s",
    ]);
    const at = (port: number) => ({
      transport: "tcp" as const,
      hostname: "127.0.0.1",
      port,
    });
    if (!json) {
      writeStderr(
        `soak: ${duration / 1000} s against 127.0.0.1:${tcp.port} (TCP, ` +
          `PROXY headers trusted from ${TRUSTED_PROXY}), :${tls.port} (TLS) ` +
          `and :${tcp.adminPort} (admin)\n`,
      );
    }
    const tally = await runSoak({
      tcp: at(tcp.port),
      ...(tcp.adminPort !== undefined && { admin: at(tcp.adminPort) }),
      trustedProxy: TRUSTED_PROXY,
      tls: {
        endpoint: at(tls.port),
        client: { caCerts: [await Deno.readTextFile(certFile)] },
      },
      duration,
    });
    const servers = { tcp: await tcp.stop(), tls: await tls.stop() };
    writeStdout(
      json
        ? JSON.stringify(soakToJson(tally, servers)) + "\n"
        : formatSoakReport(tally, servers),
    );
    return soakPassed(tally, servers) ? 0 : 1;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
