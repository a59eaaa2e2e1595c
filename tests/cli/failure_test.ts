import assert from "node:assert/strict";
import {
  describeNetworkError,
  ExitCode,
  UsageError,
} from "../../lib/cli/mod.ts";
import { OutputClosedError } from "../../lib/log/mod.ts";
import {
  DatagramTooLargeError,
  EchoMismatchError,
  TimeoutError,
} from "../../lib/net/mod.ts";
import { CertificateError } from "../../lib/tls/mod.ts";

Deno.test("each network failure maps to its own exit code and a one-line message", () => {
  const address = "127.0.0.1:7007";
  const cases: [unknown, number, RegExp][] = [
    [new UsageError("Unknown flag"), ExitCode.Usage, /^Unknown flag$/],
    [new DatagramTooLargeError("too large"), ExitCode.Usage, /^too large$/],
    [
      new CertificateError("key", "Not the certificate's key"),
      ExitCode.Usage,
      /^--tls-key: Not the certificate's key$/,
    ],
    [new EchoMismatchError("differs"), ExitCode.EchoMismatch, /^differs$/],
    [new TimeoutError("slow"), ExitCode.Timeout, /^slow$/],
    [
      new OutputClosedError(),
      ExitCode.OutputClosed,
      /^Standard output was closed before all output was written/,
    ],
    [new Deno.errors.AddrInUse("x"), ExitCode.AddressInUse, /already in use/],
    [
      new Deno.errors.PermissionDenied("x"),
      ExitCode.PermissionDenied,
      /ports below 1024/,
    ],
    [
      new Deno.errors.NotCapable('Requires net access to "127.0.0.1:1"'),
      ExitCode.PermissionDenied,
      /^No network permission for "127\.0\.0\.1:7007": run with --allow-net/,
    ],
    [
      new Deno.errors.NotCapable(
        'Requires read access to "lib/echo_worker.ts"',
      ),
      ExitCode.PermissionDenied,
      /^Missing permission: Requires read access/,
    ],
    [
      new Error(
        "failed to lookup address information: Name or service not known",
      ),
      ExitCode.UnknownHost,
      /^Unknown host "127\.0\.0\.1": name lookup failed$/,
    ],
    [
      new Deno.errors.ConnectionRefused("x"),
      ExitCode.ConnectionRefused,
      /nothing is listening/,
    ],
    [
      new Deno.errors.AddrNotAvailable("x"),
      ExitCode.NetworkError,
      /not available/,
    ],
    [
      new Deno.errors.ConnectionReset("x"),
      ExitCode.NetworkError,
      /reset by the peer/,
    ],
    [new Error("surprise"), ExitCode.Internal, /^Unexpected error: surprise$/],
  ];
  for (const [error, exitCode, message] of cases) {
    const failure = describeNetworkError(error, address);
    assert.equal(failure.exitCode, exitCode, String(error));
    assert.match(failure.message, message);
    assert.ok(!failure.message.includes("\n"));
  }
});
