/**
 * What the server needs of a stream connection and its listener. Deno's
 * own `Deno.Conn` and `Deno.Listener` have all of it; so do the TLS
 * connections of {@linkcode listenTls}, which are not Deno's.
 *
 * @module
 */

/** A stream connection: what the echo loop reads, writes and closes. */
export type StreamConn =
  & Pick<
    Deno.Conn,
    "read" | "write" | "closeWrite" | "close" | "localAddr" | "remoteAddr"
  >
  & Disposable;

/** A listener of stream connections. */
export interface StreamListener<Conn extends StreamConn = StreamConn> {
  /** Where it listens. */
  readonly addr: Deno.Addr;
  /**
   * The next connection; rejects with `Deno.errors.BadResource` once the
   * listener is closed.
   */
  accept(): Promise<Conn>;
  /** Stops listening. */
  close(): void;
}
