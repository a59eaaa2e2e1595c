/**
 * Reading the PEM files that TLS flags name (`--tls-cert`, `--tls-key`,
 * `--ca`), with errors that name the flag.
 *
 * @module
 */

import { UsageError } from "./usage_error.ts";

/**
 * Reads a PEM file named by a flag, turning a missing or unreadable file
 * into a usage error that names the flag.
 *
 * @param flag The flag, without dashes, e.g. `tls-cert`.
 * @param path The file path.
 * @returns The file's text.
 * @throws {UsageError} If the file cannot be read or holds no PEM block.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPemFile } from "./pem_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".pem" });
 * await Deno.writeTextFile(path, "not PEM");
 * await assert.rejects(readPemFile("ca", path), /--ca: .*PEM/);
 * await Deno.remove(path);
 * ```
 */
export async function readPemFile(flag: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new UsageError(`--${flag}: Cannot read "${path}": ${reason}`);
  }
  if (!/-----BEGIN [A-Z ]+-----/.test(text)) {
    throw new UsageError(`--${flag}: "${path}" is not a PEM file`);
  }
  return text;
}
