/**
 * Reading and parsing one HTTP/1.x request head, strictly.
 *
 * Who may send it: anyone who can reach the admin port. Nothing here is
 * trusted, so the head is parsed by the RFC 9112 grammar and anything else
 * is refused: the request line is `method SP origin-form SP HTTP/1.x`, every
 * line ends in CRLF (a bare LF is an error, not a line end), header lines
 * are `token ":" value` without obsolete line folding, and the head ends at
 * the first empty line, within `MAX_REQUEST_HEAD` bytes. One header value
 * is interpreted: `Content-Length` (digits only, at most once), for the
 * body of `PUT /faults`; `Transfer-Encoding` is refused, so a body's length
 * is never in doubt. `Host` is kept for `PUT /faults`, which refuses a
 * name other than `localhost` (see _routes.ts); no other route needs it.
 */

/** The longest request head read, in bytes. */
export const MAX_REQUEST_HEAD = 8 * 1024;

// A probe's head is a few hundred bytes: start small, so that the many
// idle connections a flood leaves cost little, and grow up to the limit.
const FIRST_BUFFER = 1024;

/** The parts of a request the admin routes look at. */
export interface RequestHead {
  /** The method token, case-sensitive (`GET`, `HEAD`, …). */
  method: string;
  /** The target's path, without the query. */
  path: string;
  /** The body's length (`Content-Length`); 0 without one. */
  contentLength: number;
  /** The `Host` header's value, if any. */
  host?: string;
  /** Bytes read after the head: the body's start. */
  rest: Uint8Array;
}

/**
 * What reading a head gave: the request; `400` (not HTTP/1.x) or `431`
 * (too large), to be answered with that status; or `undefined` when the
 * peer ended before the head was complete.
 */
export type HeadResult = RequestHead | 400 | 431 | undefined;

const CR = 0x0d;
const LF = 0x0a;
// "latin1" is windows-1252 in TextDecoder: one character per byte, so the
// grammar below sees every byte and no decoding error can hide one.
const decoder = new TextDecoder("latin1");

const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const PCHAR = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})";
// RFC 9112 §3: method SP request-target SP HTTP-version, with the target
// in origin-form (RFC 3986 absolute-path and optional query).
const REQUEST_LINE = new RegExp(
  `^(${TCHAR}+) (/(?:${PCHAR}|/)*)(?:\\?(?:${PCHAR}|[/?])*)? HTTP/1\\.[0-9]$`,
);
// RFC 9110 §5: field-name ":" OWS field-value OWS; field-value is visible
// characters, spaces, tabs and obs-text (bytes 0x80 to 0xff).
const FIELD_LINE = new RegExp(`^${TCHAR}+:[\\t\\x20-\\x7e\\x80-\\uffff]*$`);

/**
 * Reads from `conn` until the end of the request head (at most
 * {@linkcode MAX_REQUEST_HEAD} bytes) and parses it. Rejects with what
 * `conn.read` throws (a reset, or the connection closed by a deadline or
 * an eviction).
 */
export async function readRequestHead(
  conn: Pick<Deno.Conn, "read">,
): Promise<HeadResult> {
  let buffer = new Uint8Array(FIRST_BUFFER);
  let filled = 0;
  while (filled < MAX_REQUEST_HEAD) {
    if (filled === buffer.length) {
      const larger = new Uint8Array(
        Math.min(buffer.length * 2, MAX_REQUEST_HEAD),
      );
      larger.set(buffer);
      buffer = larger;
    }
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) return undefined;
    for (let i = filled; i < filled + n; i++) {
      if (buffer[i] !== LF) continue;
      if (i === 0 || buffer[i - 1] !== CR) return 400;
      if (i >= 3 && buffer[i - 2] === LF && buffer[i - 3] === CR) {
        const head = parseRequestHead(
          decoder.decode(buffer.subarray(0, i - 3)),
        );
        if (head === 400) return 400;
        return { ...head, rest: buffer.slice(i + 1, filled + n) };
      }
    }
    filled += n;
  }
  return 431;
}

/**
 * Parses a request head without its final empty line: the request line
 * and the header lines, separated by CRLF.
 */
export function parseRequestHead(
  head: string,
): Omit<RequestHead, "rest"> | 400 {
  const [requestLine = "", ...fieldLines] = head.split("\r\n");
  const match = REQUEST_LINE.exec(requestLine);
  if (match === null) return 400;
  if (!fieldLines.every((line) => FIELD_LINE.test(line))) return 400;
  const contentLength = parseContentLength(fieldLines);
  if (contentLength === 400) return 400;
  const host = fieldLines.find((line) => /^host:/i.test(line))?.slice(5)
    .replace(/^[ \t]+|[ \t]+$/g, "");
  return {
    method: match[1] ?? "",
    path: match[2] ?? "",
    contentLength,
    ...(host !== undefined && { host }),
  };
}

/**
 * `Content-Length`: digits only, at most one such field (RFC 9112 §6.3
 * says a list of equal values may be accepted; refusing is stricter and
 * no client sends one). Any `Transfer-Encoding` is refused: the routes
 * read bodies by length only.
 */
function parseContentLength(fieldLines: string[]): number | 400 {
  let length: number | undefined;
  for (const line of fieldLines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (name === "transfer-encoding") return 400;
    if (name !== "content-length") continue;
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (length !== undefined || !/^[0-9]{1,9}$/.test(value)) return 400;
    length = Number(value);
  }
  return length ?? 0;
}
