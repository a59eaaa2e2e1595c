/**
 * Certificates as users make them, with OpenSSL 3's `openssl req -x509`:
 * its defaults mark the certificate as a CA, which TLS clients refuse for a
 * server; the client says so and how to make one that works.
 */

import assert from "node:assert/strict";
import { describeTlsFailure, TlsVerificationError } from "../../lib/net/mod.ts";
import { FILE_PERMISSIONS, runClient, startServer } from "../_helpers.ts";

/** Makes a self-signed EC certificate for localhost and 127.0.0.1. */
async function opensslCertificate(
  dir: string,
  extra: string[],
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        keyFile,
        "-out",
        certFile,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ...extra,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch {
    assert.fail("openssl is needed: install the Debian package openssl");
  }
  assert.ok(result.success, new TextDecoder().decode(result.stderr));
  return { certFile, keyFile };
}

async function echoOverTls(
  extra: string[],
): Promise<{ code: number; stderr: string; stdout: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const { certFile, keyFile } = await opensslCertificate(dir, extra);
    await using server = await startServer(
      ["--tls-cert", certFile, "--tls-key", keyFile, "--quiet"],
      { permissions: FILE_PERMISSIONS },
    );
    const result = await runClient(
      ["--tls", "--ca", certFile, "--port", String(server.port), "hi"],
      undefined,
      FILE_PERMISSIONS,
    );
    return { ...result, stdout: new TextDecoder().decode(result.stdout) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a certificate from openssl req -x509's defaults (a CA) is refused with the reason and the openssl option that fixes it", async () => {
  const refused = await echoOverTls([]);
  assert.equal(refused.code, 9);
  assert.match(
    refused.stderr,
    /^error: TLS verification failed for "127\.0\.0\.1:\d+": the server's certificate is a CA certificate \(basicConstraints CA:TRUE, the default of openssl req -x509\): make one with -addext basicConstraints=critical,CA:FALSE \(see the README\)\n$/,
  );
  const fixed = await echoOverTls([
    "-addext",
    "basicConstraints=critical,CA:FALSE",
  ]);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.equal(fixed.stdout, "hi\n");
});

Deno.test("each certificate error rustls reports gets a reason a person can act on", () => {
  const address = "127.0.0.1:7007";
  const cases: [string, RegExp][] = [
    ["UnknownIssuer", /unknown issuer: trust .* with --ca FILE$/],
    ["Other(OtherError(CaUsedAsEndEntity))", /CA:FALSE/],
    ["Expired", /the certificate has expired$/],
    ["NotValidYet", /not valid yet: check the clocks$/],
    ["InvalidPurpose", /extendedKeyUsage lacks serverAuth/],
    ["BadSignature", /signature does not verify/],
    [
      'certificate not valid for name "example.com"; certificate is only valid for IpAddress(127.0.0.1), DnsName("localhost") or IpAddress(0::1)',
      /not valid for "example\.com" \(only for 127\.0\.0\.1, localhost or ::1\); pick the name with --servername$/,
    ],
  ];
  for (const [rustls, reason] of cases) {
    const error = describeTlsFailure(
      new Error(`invalid peer certificate: ${rustls}`),
      address,
    );
    assert.ok(error instanceof TlsVerificationError, rustls);
    assert.match(error.message, reason, rustls);
    assert.ok(
      error.message.startsWith(`TLS verification failed for "${address}": `),
    );
  }
});
