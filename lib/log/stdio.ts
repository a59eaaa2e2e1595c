const encoder = new TextEncoder();

function writeAllSync(
  stream: { writeSync(p: Uint8Array): number },
  text: string,
): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += stream.writeSync(bytes.subarray(written));
  }
}

/**
 * Writes `text` to stdout, synchronously so that lines scripts wait for
 * (`listening on …`) are out before anything else happens.
 *
 * @param text The text, with its own newline.
 */
export function writeStdout(text: string): void {
  writeAllSync(Deno.stdout, text);
}

/**
 * Writes `text` to stderr. A closed stderr is ignored: a log line is not
 * worth crashing a server over.
 *
 * @param text The text, with its own newline.
 */
export function writeStderr(text: string): void {
  try {
    writeAllSync(Deno.stderr, text);
  } catch {
    // Nowhere left to report it.
  }
}
