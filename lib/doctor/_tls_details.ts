/**
 * What Deno's TLS API does not tell (the protocol version, the server
 * certificate's expiry), read with `node:tls` over a connection of its own.
 *
 * @module
 */

import tls from "node:tls";
import { isIpAddress, type TlsClientOptions } from "../net/mod.ts";

/** The TLS session's version and the server certificate's end of validity. */
export interface TlsDetails {
  /** e.g. `TLSv1.3`. */
  protocol: string;
  /** When the server's certificate stops being valid. */
  validTo: Date;
}

/**
 * Opens one TLS connection with `node:tls` and reads its details; the
 * certificate is verified as by the Deno connection (same CA and name).
 *
 * @param host The server's address.
 * @param port The server's port.
 * @param options The client's TLS settings.
 * @param timeoutMs The limit.
 * @returns The details, or undefined if they could not be read (never
 * rejects).
 */
export function tlsDetails(
  host: string,
  port: number,
  options: TlsClientOptions,
  timeoutMs: number,
): Promise<TlsDetails | undefined> {
  // SNI carries names only (RFC 6066); an address is verified as the host.
  const servername = options.serverName ??
    (isIpAddress(host) ? undefined : host);
  return new Promise((resolve) => {
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect({
        host,
        port,
        ...(servername !== undefined && { servername }),
        ...(options.caCerts !== undefined && { ca: options.caCerts }),
        ...(options.alpnProtocols !== undefined &&
          { ALPNProtocols: options.alpnProtocols }),
      });
    } catch {
      return resolve(undefined);
    }
    const done = (details: TlsDetails | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(details);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once("secureConnect", () => {
      const validTo = new Date(socket.getPeerCertificate()?.valid_to ?? "");
      const protocol = socket.getProtocol();
      done(
        protocol === null || Number.isNaN(validTo.getTime())
          ? undefined
          : { protocol, validTo },
      );
    });
    socket.once("error", () => done(undefined));
  });
}
