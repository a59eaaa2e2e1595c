/**
 * The socket file behind a Unix domain socket listener: clearing a stale
 * one before listening, and removing ours on exit.
 *
 * A server killed without cleanup leaves its socket file behind, and
 * `listen` then fails with "address in use" although nobody listens. The
 * file is removed only when that is proven: it is a socket, and connecting
 * to it is refused. Anything else at the path is left alone.
 *
 * @module
 */

/**
 * Makes `path` free for a new listener: nothing is there, or a socket file
 * that no server answers on, which is removed.
 *
 * @param path The socket path.
 * @throws {Deno.errors.AlreadyExists} If a file that is not a socket is at
 * `path`.
 * @throws {Deno.errors.AddrInUse} If a server is listening on `path`.
 *
 * @example
 * ```ts
 * import { removeStaleSocket } from "./unix_socket.ts";
 * await removeStaleSocket("/tmp/echo.sock");
 * using listener = Deno.listen({ transport: "unix", path: "/tmp/echo.sock" });
 * ```
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isSocket) {
    throw new Deno.errors.AlreadyExists(
      `Refusing to replace "${path}": it exists and is not a socket`,
    );
  }
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
    await Deno.remove(path); // proven dead: nothing accepts on it
    return;
  }
  conn.close();
  throw new Deno.errors.AddrInUse(`A server is listening on "${path}"`);
}

/**
 * Removes the socket file at `path` when disposed, if it is still a socket
 * (another program may have replaced it meanwhile).
 *
 * @param path The socket path this process listens on.
 * @returns A disposable that removes the file.
 */
export function removeSocketOnExit(path: string): Disposable {
  return {
    [Symbol.dispose](): void {
      try {
        if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
      } catch {
        // Already gone, or not ours to remove.
      }
    },
  };
}
