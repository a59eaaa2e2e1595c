/**
 * A raw HTTP/1.1 client for the admin tests: it sends bytes exactly as
 * given (malformed heads included) and reads what the server does.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How a connection ended, seen from the client. */
export interface Ending {
  /** What the server sent before it closed. */
  text: string;
  /** Whether it ended with a reset rather than an orderly close. */
  reset: boolean;
}

/**
 * Reads until the server closes `conn`; a reset (the server closed with
 * our bytes unread) ends it too. A safety net closes the connection after
 * `safetyMs`, so a broken server fails the test instead of hanging it.
 */
export async function readUntilClosed(
  conn: Deno.Conn,
  safetyMs = 30_000,
): Promise<Ending> {
  const safety = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }, safetyMs);
  const buffer = new Uint8Array(16 * 1024);
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return { text, reset: false };
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  } catch {
    return { text, reset: true };
  } finally {
    clearTimeout(safety);
  }
}

/** Opens a connection, sends `head`, and returns everything answered. */
export async function request(port: number, head: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(head));
  return (await readUntilClosed(conn)).text;
}

/** A `GET` (or other method) request head for `path`. */
export function get(path: string, method = "GET"): string {
  return `${method} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
}

/** The status line of a response. */
export function statusLine(response: string): string {
  return response.split("\r\n", 1)[0] ?? "";
}
