/**
 * From `echo-server`'s parsed flags to {@linkcode runServer}'s options:
 * reading the PEM files the flags name, and printing what listens.
 *
 * @module
 */

import { OutputClosedError, writeStderr, writeStdout } from "../log/mod.ts";
import { formatAddress } from "../net/mod.ts";
import type { Listening, RunServerOptions } from "../server/mod.ts";
import { bannerFields, type HostFacts } from "../banner/mod.ts";
import { missingPermission, readHostFacts } from "./host_facts.ts";
import { readPemFile } from "./pem_file.ts";
import type { ServerArgs } from "./server_flags.ts";

/**
 * The options `runServer` takes for `args`, with the TLS files read and
 * the host's name and downward-API fields found.
 *
 * @param args Parsed flags.
 * @returns Options without `signal` and `onListening`.
 * @throws {UsageError} If a TLS file is missing or not PEM.
 * @throws {Deno.errors.NotCapable} If `--banner` names a field this
 * process may not read (exit code 5).
 */
export async function serverOptions(
  args: ServerArgs,
): Promise<RunServerOptions> {
  const { tls, verbose: _verbose, banner, ...rest } = args;
  const host = readHostFacts();
  const options: Omit<RunServerOptions, "tls"> = {
    ...rest,
    host,
    ...(banner !== undefined && { banner: { ...banner, host } }),
  };
  if (banner !== undefined) checkBannerPermissions(banner.template, host);
  if (tls?.kind === "files") {
    return {
      ...options,
      tls: {
        cert: await readPemFile("tls-cert", tls.certFile),
        key: await readPemFile("tls-key", tls.keyFile),
      },
    };
  }
  return tls?.kind === "generate"
    ? { ...options, tls: { generate: true } }
    : options;
}

/**
 * Prints what listens on stdout, one line each, in the documented form
 * scripts read: `listening on [tls |udp ]ADDRESS`, for TLS the
 * certificate's fingerprint, and last `admin listening on http://ADDRESS`.
 * With `--tls-cert-out`, writes the generated certificate there first.
 *
 * A closed stdout (a script read the first line and went, `| head -1`)
 * does not stop the server: the lines are for the reader, and there is
 * none; a warning on stderr says so.
 *
 * @param listening What the server listens on.
 * @param args Parsed flags.
 */
export async function announceListening(
  listening: Listening,
  args: ServerArgs,
): Promise<void> {
  const { stream, datagram, tls } = listening;
  if (tls !== undefined && args.tls?.kind === "generate" && args.tls.certOut) {
    await Deno.writeTextFile(args.tls.certOut, tls.cert);
  }
  const lines: string[] = [];
  if (stream !== undefined) {
    const protocol = tls === undefined ? "" : "tls ";
    lines.push(`listening on ${protocol}${formatAddress(stream)}`);
  }
  if (tls !== undefined) {
    lines.push(`tls certificate sha256 ${tls.fingerprint}`);
  }
  if (datagram !== undefined) {
    lines.push(`listening on udp ${formatAddress(datagram)}`);
  }
  if (listening.admin !== undefined) {
    lines.push(`admin listening on http://${formatAddress(listening.admin)}`);
  }
  try {
    writeStdout(lines.map((line) => `${line}\n`).join(""));
  } catch (error) {
    if (!(error instanceof OutputClosedError)) throw error;
    writeStderr(
      "warning: standard output is closed: serving without printing the listening lines\n",
    );
  }
}

/**
 * Refuses a banner that would show `-` for a field only because this
 * process may not read it (`deno run` without the permission): the user
 * asked for that field, so the missing flag is named instead.
 */
function checkBannerPermissions(
  template: Parameters<typeof bannerFields>[0],
  host: HostFacts,
): void {
  for (const field of ["hostname", "pod", "namespace", "node"] as const) {
    if (!bannerFields(template).has(field) || host[field] !== undefined) {
      continue;
    }
    const flag = missingPermission(field);
    if (flag !== undefined) {
      throw new Deno.errors.NotCapable(
        `--banner: the field {${field}} needs ${flag} under deno run`,
      );
    }
  }
}
