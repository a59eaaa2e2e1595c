/**
 * Errors across a Worker boundary: structured clone keeps neither the
 * class nor extra fields, and the class decides the exit code.
 *
 * @module
 */

/** An error as plain data. */
export interface ErrorMessage {
  /** The class name, e.g. `AddrInUse` or `UsageError`. */
  name: string;
  /** The message. */
  message: string;
  /** A system error code such as `ECONNREFUSED`, if it had one. */
  code?: string;
}

/**
 * `error` as plain data that `postMessage` keeps.
 *
 * @param error Whatever was thrown.
 * @returns Its class name, message and code.
 */
export function errorToMessage(error: unknown): ErrorMessage {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    name: error instanceof Error ? error.name : "Error",
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === "string" && { code }),
  };
}

/** Error classes by name, to rebuild errors of those classes. */
export type ErrorClasses = Record<string, new (message: string) => Error>;

/**
 * The error `message` describes, rebuilt as the `Deno.errors` class it
 * was, or as one of `classes` (our own error types), or as an `Error`.
 *
 * @param message From {@linkcode errorToMessage}.
 * @param classes Further classes by name, e.g. `{ UsageError }`.
 * @returns An error of the right class, with its code.
 */
export function errorFromMessage(
  message: ErrorMessage,
  classes: ErrorClasses = {},
): Error {
  const known = {
    ...Deno.errors as unknown as Record<string, new (m: string) => Error>,
    ...classes,
  };
  const error = new (known[message.name] ?? Error)(message.message);
  return message.code === undefined
    ? error
    : Object.assign(error, { code: message.code });
}
