/**
 * Dropping file access once start-up is done, as a server drops privileges
 * after binding. Both programs carry file read and write permission only
 * because users name files on the command line (`--tls-cert`, `--tls-key`,
 * `--ca`, `--tls-cert-out`, `--unix`); once those are read or written and
 * the sockets exist, the permission is revoked, so that a bug reached from
 * the network cannot read or write files.
 *
 * How `Deno.permissions.revoke` behaves in Deno 2.9 decides the design
 * (runtime/permissions/lib.rs and runtime/ops/worker_host.rs;
 * tests/permissions_cli_test.ts checks each point):
 *
 * - A global grant (`--allow-read`, as the binaries and the tasks carry)
 *   goes whole or not at all: revoking one path under it changes nothing,
 *   and revoking it also clears every path granted besides. So no single
 *   path (a Unix socket, `lib/`) can be kept.
 * - A Worker started without `deno.permissions` (all of ours) shares its
 *   parent's permissions, not a copy: a revoke in any thread holds in every
 *   thread, those already running included. So there is one drop per
 *   process, at the point after which no thread touches a file; a Worker
 *   started after it could not load its modules under `deno run`.
 * - A revoked permission is back to "prompt", not "denied": on a terminal,
 *   a later file access asks the user and blocks its thread until answered,
 *   unless Deno runs with `--no-prompt` (the tasks and the binaries do), and
 *   then it throws `Deno.errors.NotCapable`.
 *
 * @module
 */

import type { Endpoint } from "../net/mod.ts";

/** A file permission: reading files, or writing (and removing) them. */
export type FileAccess = "read" | "write";

/** Options for {@linkcode dropFileAccess}. */
export interface DropFileAccessOptions {
  /**
   * File permissions still needed; each is kept whole (see the module doc).
   * @default {[]}
   */
  keep?: readonly FileAccess[];
}

/**
 * Revokes the process's file read and write permission, except what `keep`
 * names, in every thread at once. Synchronous, so that no other code of
 * this thread runs between the two revokes.
 *
 * @param options What to keep.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropFileAccess, fileAccessFor } from "./drop_file_access.ts";
 * // A client of a Unix socket keeps both until connected; this drops nothing.
 * const keep = fileAccessFor({ transport: "unix", path: "/tmp/echo.sock" });
 * assert.deepEqual(keep, ["read", "write"]);
 * dropFileAccess({ keep });
 * ```
 */
export function dropFileAccess(options: DropFileAccessOptions = {}): void {
  const { keep = [] } = options;
  for (const name of ["read", "write"] as const) {
    if (!keep.includes(name)) Deno.permissions.revokeSync({ name });
  }
}

/**
 * The file permissions a program still needs while it serves or connects
 * to `endpoint`: read and write for a Unix socket, none for a host and
 * port. Deno checks both for the socket's path on every connect, and the
 * server checks and removes its socket file at exit (net/unix_socket.ts),
 * which, on a terminal without `--no-prompt`, would prompt once dropped.
 *
 * @param endpoint Where the program listens or connects.
 * @returns The permissions to keep.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileAccessFor } from "./drop_file_access.ts";
 * const tcp = { transport: "tcp", hostname: "127.0.0.1", port: 7007 } as const;
 * assert.deepEqual(fileAccessFor(tcp), []);
 * ```
 */
export function fileAccessFor(endpoint: Endpoint): FileAccess[] {
  return endpoint.transport === "unix" ? ["read", "write"] : [];
}
