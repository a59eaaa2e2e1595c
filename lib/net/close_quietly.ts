/**
 * Closing a resource that may already be closed.
 *
 * @module
 */

/**
 * Closes `resource`, ignoring that it was closed already (by a timeout, a
 * shutdown, or the peer's error).
 *
 * @param resource A connection, listener or socket.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./close_quietly.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * listener.close();
 * closeQuietly(listener); // no error
 * ```
 */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed: nothing left to release.
  }
}
