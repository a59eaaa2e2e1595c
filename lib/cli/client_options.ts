/**
 * From `echo-client`'s parsed flags to {@linkcode runClient}'s options:
 * the message bytes, the CA file read, stdin and stdout, the progress line
 * and the hints on stderr.
 *
 * @module
 */

import { printableBanner } from "../banner/mod.ts";
import type { EchoStreamProgress, RunClientOptions } from "../client/mod.ts";
import { writeStderr, writeStdoutBytes } from "../log/mod.ts";
import { formatAddress } from "../net/mod.ts";
import type { ClientArgs } from "./client_flags.ts";
import { clientTlsOptions } from "./client_tls_flags.ts";
import { ProgressLine } from "./progress_line.ts";

/**
 * The options `runClient` takes for `args`; disposing them stops the
 * progress line.
 *
 * @param args Parsed flags.
 * @returns Options for `runClient`, disposable.
 * @throws {UsageError} If the `--ca` file is missing or not PEM.
 */
export async function clientOptions(
  args: ClientArgs,
): Promise<RunClientOptions & Disposable> {
  const interactive = Deno.stdin.isTerminal();
  const progress: EchoStreamProgress = { bytesSent: 0, bytesVerified: 0 };
  const line = args.message.length === 0 && !interactive && !args.quiet &&
      Deno.stderr.isTerminal()
    ? new ProgressLine(progress)
    : undefined;
  return {
    endpoint: args.endpoint,
    udp: args.udp,
    retries: args.retries,
    timeout: args.timeout,
    window: args.window,
    progress,
    ...(args.tls !== undefined && { tls: await clientTlsOptions(args.tls) }),
    ...(args.sendProxy !== undefined && { sendProxy: args.sendProxy }),
    ...(args.message.length > 0 && {
      message: new TextEncoder().encode(
        args.message.join(" ") + (args.newline ? "\n" : ""),
      ),
    }),
    input: Deno.stdin.readable,
    output: writeStdoutBytes,
    onConnected: async (conn) => {
      if (args.verbose && "handshake" in conn) {
        const { alpnProtocol } = await (conn as Deno.TlsConn).handshake();
        writeStderr(
          `tls: handshake done, certificate verified, alpn=${
            alpnProtocol ?? "none"
          }\n`,
        );
      }
      if (args.message.length === 0 && interactive && !args.quiet) {
        writeStderr(
          `connected to ${
            formatAddress(args.endpoint)
          }: type lines to echo, Ctrl-D ends\n`,
        );
      }
    },
    ...(args.banner && {
      onBanner: (banner: string) =>
        writeStderr(`banner: ${printableBanner(banner)}\n`),
    }),
    [Symbol.dispose]: () => line?.[Symbol.dispose](),
  };
}
