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
 * Standard output was closed by its reader (e.g. `| head -c 10`) before
 * everything was written: not a network error, though the OS calls both a
 * broken pipe.
 */
export class OutputClosedError extends Error {
  /** @param message What was lost; the default says it in general. */
  constructor(
    message =
      "Standard output was closed before all output was written (broken pipe)",
  ) {
    super(message);
    this.name = "OutputClosedError";
  }
}

function outputError(error: unknown): unknown {
  return error instanceof Deno.errors.BrokenPipe
    ? new OutputClosedError()
    : error;
}

/**
 * Writes `text` to stdout, synchronously so that lines scripts wait for
 * (`listening on …`) are out before anything else happens.
 *
 * @param text The text, with its own newline.
 * @throws {OutputClosedError} When stdout's reader has gone.
 */
export function writeStdout(text: string): void {
  try {
    writeAllSync(Deno.stdout, text);
  } catch (error) {
    throw outputError(error);
  }
}

/**
 * Writes `bytes` to stdout without blocking: for echoed data, which may be
 * large and is written while the connection is still being read.
 *
 * @param bytes The bytes.
 * @throws {OutputClosedError} When stdout's reader has gone.
 */
export async function writeStdoutBytes(bytes: Uint8Array): Promise<void> {
  try {
    let written = 0;
    while (written < bytes.length) {
      written += await Deno.stdout.write(bytes.subarray(written));
    }
  } catch (error) {
    throw outputError(error);
  }
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
