/**
 * TLS as a client, the same for `echo-client`, `bench` and `ping`: the
 * flags `--tls`, `--ca`, `--servername`, `--alpn`, declared once; reading
 * them; and turning them into connect options (the `--ca` file read).
 *
 * @module
 */

import type { TlsClientOptions } from "../net/mod.ts";
import type { FlagSpecs, ParsedFlags } from "./flags.ts";
import { readPemFile } from "./pem_file.ts";

/** `--tls` and its companions, as `parseFlags` takes them. */
export const CLIENT_TLS_FLAGS = {
  tls: { type: "boolean" },
  ca: { type: "string" },
  servername: { type: "string" },
  alpn: { type: "string" },
} as const satisfies FlagSpecs;

/** `--tls` and its companions, as typed. */
export interface ClientTlsArgs {
  /** A PEM file with the CA (or the server's own certificate) to trust. */
  caFile: string | undefined;
  /** The name to send (SNI) and verify instead of the host. */
  serverName: string | undefined;
  /** ALPN protocols to offer. */
  alpn: string[] | undefined;
}

/**
 * Reads `--tls` and its companions `--ca`, `--servername`, `--alpn` (a
 * comma-separated list), as `echo-client` and `echo-client ping` take them.
 *
 * @param values Flag values from `parseFlags`.
 * @returns The TLS settings, or undefined without `--tls`.
 */
export function parseClientTlsFlags(
  values: ParsedFlags["values"],
): ClientTlsArgs | undefined {
  if (values.tls !== true) return undefined;
  const text = (name: string) => values[name] as string | undefined;
  return {
    caFile: text("ca"),
    serverName: text("servername"),
    alpn: text("alpn")?.split(",").map((protocol) => protocol.trim()),
  };
}

/**
 * Reads `--tls` and its companions into the client's TLS options, reading
 * the `--ca` file.
 *
 * @param tls TLS flags as typed.
 * @returns Options for connecting with TLS.
 * @throws {UsageError} If the `--ca` file is missing or not PEM.
 */
export async function clientTlsOptions(
  tls: ClientTlsArgs,
): Promise<TlsClientOptions> {
  return {
    ...(tls.caFile !== undefined &&
      { caCerts: [await readPemFile("ca", tls.caFile)] }),
    ...(tls.serverName !== undefined && { serverName: tls.serverName }),
    ...(tls.alpn !== undefined && { alpnProtocols: tls.alpn }),
  };
}
