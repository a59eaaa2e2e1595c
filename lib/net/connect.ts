/**
 * Opening a client connection to an {@linkcode Endpoint} (TCP, TLS over
 * TCP, or a Unix socket) with a deadline.
 *
 * @module
 */

import { type Endpoint, formatAddress } from "./address.ts";
import { TimeoutError, TlsVerificationError } from "./errors.ts";
import { formatDuration } from "../log/mod.ts";

/** How long the client waits to connect, and for each piece of echo. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** How the client speaks TLS. */
export interface TlsClientOptions {
  /** Extra trusted certificates (a CA, or the server's own), PEM. */
  caCerts?: string[];
  /** The name to send (SNI) and verify; defaults to the host connected to. */
  serverName?: string;
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
}

/** Options for {@linkcode connectWithTimeout}. */
export interface ConnectOptions {
  /** Speak TLS over the connection, handshake included in the deadline. */
  tls?: TlsClientOptions;
  /**
   * Give up connecting after this many ms.
   * @default {10000}
   */
  timeout?: number;
  /** Aborting it abandons the attempt (with the signal's reason). */
  signal?: AbortSignal;
  /**
   * Runs on the new connection before anything else (before TLS), e.g. to
   * send a PROXY header; within the deadline.
   */
  preamble?: (conn: Deno.Conn) => Promise<void>;
}

/**
 * Connects to `endpoint`, giving up after `options.timeout`.
 *
 * @param endpoint A host and port, or a Unix socket path.
 * @param options The deadline and an abort signal.
 * @returns The connection.
 * @throws {TimeoutError} If the connection is not made in time.
 * @throws {Deno.errors.ConnectionRefused} And the other `Deno.connect` errors.
 *
 * @example
 * ```ts
 * import { connectWithTimeout } from "./connect.ts";
 * using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using conn = await connectWithTimeout(
 *   { transport: "tcp", hostname: "127.0.0.1", port: server.addr.port },
 *   { timeout: 5_000 },
 * );
 * using _accepted = await server.accept();
 * ```
 */
export async function connectWithTimeout(
  endpoint: Endpoint,
  options: ConnectOptions = {},
): Promise<Deno.Conn> {
  const { timeout = DEFAULT_TIMEOUT_MS } = options;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeout);
  const signal = options.signal === undefined
    ? deadline.signal
    : AbortSignal.any([deadline.signal, options.signal]);
  try {
    const conn = await connectOnce(endpoint, signal);
    try {
      await options.preamble?.(conn);
    } catch (error) {
      conn.close();
      throw error;
    }
    if (options.tls === undefined || endpoint.transport !== "tcp") return conn;
    return await startTls(conn, endpoint, options.tls, signal);
  } catch (error) {
    if (!deadline.signal.aborted) throw error;
    throw new TimeoutError(
      `Timed out connecting to "${formatAddress(endpoint)}" after ${
        formatDuration(timeout)
      }`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the TLS handshake on `conn` so that a refused certificate fails
 * here, with a message that says why, rather than at the first read.
 */
async function startTls(
  conn: Deno.Conn,
  endpoint: Extract<Endpoint, { transport: "tcp" }>,
  tls: TlsClientOptions,
  signal: AbortSignal,
): Promise<Deno.TlsConn> {
  // Without it, a record written while an earlier one is unacknowledged
  // (the first message after the handshake) waits for the server's delayed
  // ACK: 40 ms on every new TLS connection. The TLS connection cannot set
  // it later, so it is set on the TCP socket first.
  (conn as Deno.TcpConn).setNoDelay(true);
  const tlsConn = await Deno.startTls(conn as Deno.TcpConn, {
    hostname: tls.serverName ?? endpoint.hostname,
    ...(tls.caCerts !== undefined && { caCerts: tls.caCerts }),
    ...(tls.alpnProtocols !== undefined &&
      { alpnProtocols: tls.alpnProtocols }),
  });
  const close = () => tlsConn.close();
  signal.addEventListener("abort", close, { once: true });
  try {
    await tlsConn.handshake();
    return tlsConn;
  } catch (error) {
    if (!signal.aborted) tlsConn.close();
    throw describeTlsFailure(error, formatAddress(endpoint));
  } finally {
    signal.removeEventListener("abort", close);
  }
}

/**
 * Rewords rustls' certificate errors ("invalid peer certificate:
 * UnknownIssuer") into what the user can act on.
 *
 * @param error The handshake error.
 * @param address The server, as printed.
 * @returns A {@linkcode TlsVerificationError} for a refused certificate, or
 * `error` itself.
 */
export function describeTlsFailure(error: unknown, address: string): unknown {
  const detail = error instanceof Error ? error.message : String(error);
  const refused = /invalid peer certificate: (.*)$/.exec(detail)?.[1];
  if (refused === undefined) return error;
  const prefix = `TLS verification failed for "${address}"`;
  const name =
    /not valid for name "([^"]*)"(?:; certificate is only valid for (.*))?/
      .exec(refused);
  if (name !== null) {
    const valid = name[2] === undefined
      ? ""
      : ` (only for ${namesOf(name[2])})`;
    return new TlsVerificationError(
      `${prefix}: name mismatch: the certificate is not valid for "${
        name[1]
      }"${valid}; pick the name with --servername`,
    );
  }
  const reason = VERIFICATION_REASONS.find(([pattern]) => pattern.test(refused))
    ?.[1];
  return new TlsVerificationError(`${prefix}: ${reason ?? refused}`);
}

/**
 * What rustls' certificate errors mean, in words, with the next step: a
 * pattern of its message, and the reason to print.
 */
const VERIFICATION_REASONS: readonly [RegExp, string][] = [
  [
    /UnknownIssuer/,
    "unknown issuer: trust the server's certificate or its CA with --ca FILE",
  ],
  [
    /CaUsedAsEndEntity/,
    "the server's certificate is a CA certificate (basicConstraints CA:TRUE, the default of openssl req -x509): make one with -addext basicConstraints=critical,CA:FALSE (see the README)",
  ],
  [/expired/i, "the certificate has expired"],
  [/NotValidYet/i, "the certificate is not valid yet: check the clocks"],
  [
    /InvalidPurpose/i,
    "the certificate is not for TLS servers (its extendedKeyUsage lacks serverAuth)",
  ],
  [/Revoked/i, "the certificate has been revoked"],
  [
    /BadSignature|UnsupportedSignatureAlgorithm/i,
    "the certificate's signature does not verify (or uses an algorithm TLS clients refuse)",
  ],
  [/BadEncoding/i, "the certificate cannot be decoded"],
];

/**
 * rustls' list of names (`IpAddress(127.0.0.1), DnsName("localhost") or
 * IpAddress(0::1)`) as a person writes them: `127.0.0.1, localhost or
 * ::1` (IPv6 in its usual short form, which rustls does not print).
 */
function namesOf(list: string): string {
  return list.replace(/DnsName\("([^"]*)"\)/g, "$1").replace(
    /IpAddress\(([^)]*)\)/g,
    (_, address: string) =>
      address.includes(":") ? shortIpv6(address) : address,
  );
}

function shortIpv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}

function connectOnce(
  endpoint: Endpoint,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  if (endpoint.transport === "unix") {
    // Deno.connect takes no signal for Unix sockets, so race the deadline;
    // a local connect either succeeds or fails at once in practice.
    return raceAbort(Deno.connect(endpoint), signal);
  }
  return Deno.connect({ ...endpoint, signal });
}

function raceAbort(
  connecting: Promise<Deno.Conn>,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  if (signal.aborted) {
    connecting.then((conn) => conn.close(), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      connecting.then((conn) => conn.close(), () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    connecting.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
