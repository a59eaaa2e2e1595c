/**
 * TLS certificates for the server: reading PEM files, generating a
 * short-lived self-signed certificate for `--tls`, and the SHA-256
 * fingerprint that lets a user check which certificate they are trusting.
 *
 * Generation is WebCrypto plus a small DER encoder (`_der.ts`) rather than
 * an X.509 library: the one well-kept candidate, `@peculiar/x509`, brings
 * twenty npm packages and a global `Reflect` polyfill, and `deno run` then
 * downloads them when any server starts, even one that never uses TLS. A
 * self-signed certificate needs nine fields; the tests check the result with
 * Deno's own TLS stack (rustls and webpki) and the fingerprint against
 * OpenSSL's.
 *
 * @module
 */

import { ipv6Bytes, isIpAddress } from "../net/mod.ts";
import * as der from "./_der.ts";

/** How long a generated certificate is valid: it lives as long as a run. */
export const GENERATED_VALIDITY_MS = 24 * 60 * 60 * 1000;

/** A certificate and its private key, PEM. */
export interface CertifiedKey {
  /** Certificate (chain), PEM. */
  cert: string;
  /** Private key, PEM. */
  key: string;
}

/** Options for {@linkcode generateSelfSigned}. */
export interface GenerateOptions {
  /**
   * Start of validity.
   * @default {an hour ago}
   */
  notBefore?: Date;
  /**
   * End of validity.
   * @default {24 hours from now}
   */
  notAfter?: Date;
}

/**
 * Generates an ECDSA P-256 self-signed certificate for `names` (host names
 * and IP addresses, all put in the subject alternative names), valid from
 * an hour ago (clock skew) for {@linkcode GENERATED_VALIDITY_MS}.
 *
 * @param names The names and addresses clients will connect with.
 * @param options Another validity period (tests use an expired one).
 * @returns The certificate and its key, PEM; the key never leaves memory
 * unless the caller writes it.
 *
 * @example
 * ```ts
 * import { generateSelfSigned } from "./certificate.ts";
 * const { cert } = await generateSelfSigned(["localhost", "127.0.0.1"]);
 * ```
 */
export async function generateSelfSigned(
  names: string[],
  options: GenerateOptions = {},
): Promise<CertifiedKey> {
  const now = Date.now();
  const {
    notBefore = new Date(now - 60 * 60 * 1000),
    notAfter = new Date(now + GENERATED_VALIDITY_MS),
  } = options;
  const keys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const name = der.sequence(
    der.set(
      der.sequence(
        der.oid(OID.commonName),
        der.utf8String(names[0] ?? "echo-server"),
      ),
    ),
  );
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // X.509 v3
    der.unsignedInteger(crypto.getRandomValues(new Uint8Array(16))),
    der.sequence(der.oid(OID.ecdsaWithSha256)),
    name, // issuer: self-signed, so the subject
    der.sequence(
      der.utcTime(notBefore),
      der.utcTime(notAfter),
    ),
    name,
    new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey)),
    der.explicit(
      3,
      der.sequence(
        extension(
          OID.subjectAltName,
          false,
          der.sequence(...names.map(generalName)),
        ),
        extension(OID.basicConstraints, true, der.sequence()),
        // digitalSignature: the first bit, so 7 unused bits.
        extension(OID.keyUsage, true, der.bitString(Uint8Array.of(0x80), 7)),
        extension(
          OID.extKeyUsage,
          false,
          der.sequence(der.oid(OID.serverAuth)),
        ),
      ),
    ),
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      tbs,
    ),
  );
  const certificate = der.sequence(
    tbs,
    der.sequence(der.oid(OID.ecdsaWithSha256)),
    der.bitString(ecdsaSignatureToDer(signature)),
  );
  const pkcs8 = new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", keys.privateKey),
  );
  return {
    cert: toPem("CERTIFICATE", certificate),
    key: toPem("PRIVATE KEY", pkcs8),
  };
}

const OID = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

function extension(
  id: string,
  critical: boolean,
  value: Uint8Array,
): Uint8Array {
  return der.sequence(
    der.oid(id),
    ...(critical ? [der.boolean(true)] : []),
    der.octetString(value),
  );
}

/** A subjectAltName entry: iPAddress [7] for addresses, dNSName [2] else. */
function generalName(name: string): Uint8Array {
  if (!isIpAddress(name)) {
    return der.implicit(2, new TextEncoder().encode(name));
  }
  return der.implicit(7, ipAddressBytes(name));
}

function ipAddressBytes(address: string): Uint8Array {
  if (!address.includes(":")) {
    return Uint8Array.from(address.split("."), Number);
  }
  // isIpAddress() has vouched for it, so this is an IPv6 address.
  return ipv6Bytes(address) as Uint8Array;
}

/** WebCrypto signs ECDSA as r‖s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function ecdsaSignatureToDer(signature: Uint8Array): Uint8Array {
  const half = signature.length / 2;
  return der.sequence(
    der.unsignedInteger(signature.subarray(0, half)),
    der.unsignedInteger(signature.subarray(half)),
  );
}

/**
 * The SHA-256 fingerprint of the first certificate in `pem`, as colon
 * separated upper-case hex (the form browsers and `openssl x509
 * -fingerprint -sha256` print).
 *
 * @param pem One or more PEM certificates.
 * @returns The fingerprint.
 * @throws {TypeError} If `pem` holds no certificate.
 *
 * @example
 * ```ts
 * import { fingerprint, generateSelfSigned } from "./certificate.ts";
 * const { cert } = await generateSelfSigned(["localhost"]);
 * await fingerprint(cert); // "3A:0F:…"
 * ```
 */
export async function fingerprint(pem: string): Promise<string> {
  const body = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/
    .exec(pem)?.[1];
  if (body === undefined) throw new TypeError("No certificate in PEM data");
  const der = Uint8Array.from(
    atob(body.replace(/\s+/g, "")),
    (c) => c.charCodeAt(0),
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return toHex(digest).toUpperCase().replace(/(..)(?!$)/g, "$1:");
}

/**
 * TLS material that cannot be used, and which part is at fault, so that
 * the command line can name the flag that gave it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CertificateError } from "./certificate.ts";
 * const error = new CertificateError("key", "The private key does not belong to the certificate");
 * assert.equal(error.part, "key");
 * ```
 */
export class CertificateError extends Error {
  override name = "CertificateError";
  /** The certificate, the key, or either (the runtime did not say). */
  readonly part: "cert" | "key" | "either";

  /**
   * @param part Which part is wrong.
   * @param message What is wrong with it.
   */
  constructor(part: "cert" | "key" | "either", message: string) {
    super(message);
    this.part = part;
  }
}

/**
 * Checks that `material` is usable: PEM that parses, and a key that belongs
 * to the certificate. Deno checks both when a TLS listener is created; a
 * throwaway listener on a loopback port asks it before anything is served.
 *
 * @param material Certificate and key, PEM.
 * @throws {CertificateError} Saying which part is wrong.
 */
export function checkCertifiedKey(material: CertifiedKey): void {
  let probe: Deno.TlsListener;
  try {
    probe = Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...material });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (/KeyMismatch|not be consistent/i.test(detail)) {
      throw new CertificateError(
        "key",
        "The private key does not belong to the certificate",
      );
    }
    if (/No certificates found/i.test(detail)) {
      throw new CertificateError(
        "cert",
        "No certificate found in the PEM data",
      );
    }
    if (/private key/i.test(detail)) {
      throw new CertificateError(
        "key",
        "Cannot parse the private key (expected PEM: PKCS#8, RSA or EC)",
      );
    }
    throw new CertificateError(
      "either",
      `Invalid TLS certificate or key: ${detail}`,
    );
  }
  probe.close();
}

function toPem(label: string, der: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...der));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${
    lines.join("\n")
  }\n-----END ${label}-----\n`;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(
    "",
  );
}
