/**
 * Escaping for log lines. Field values often come from clients (peer
 * names, SNI, ALPN, error messages quoting what they sent), so every one is
 * escaped here, in the logger, where no caller can forget it: a value can
 * neither start a new line nor send a terminal escape sequence nor reorder
 * the text around it (bidi controls) in whatever shows the log.
 *
 * @module
 */

/**
 * A text-format value that may go out as it is: printable ASCII without
 * space, quote, backslash or `=` (which would make `key=value` ambiguous).
 */
const BARE_VALUE = /^[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e]+$/;

/** What a quoted value still has to escape after `JSON.stringify`. */
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/g;

/**
 * Characters JSON.stringify leaves raw but a terminal, an editor or a log
 * viewer may act on: DEL and the C1 controls (ESC's 8-bit form among
 * them), other format characters (bidi overrides and isolates, zero-width
 * characters, invisible tag characters), line and paragraph separators,
 * surrogates, private-use and unassigned code points.
 */
const UNSAFE_IN_JSON = /[\p{C}\p{Zl}\p{Zp}]/gu;

/** `\uXXXX` for every UTF-16 unit of `text`, as JSON writes escapes. */
function unicodeEscape(text: string): string {
  let escaped = "";
  for (let i = 0; i < text.length; i++) {
    escaped += `\\u${text.charCodeAt(i).toString(16).padStart(4, "0")}`;
  }
  return escaped;
}

/**
 * A field value for the text format: bare when it is plain printable
 * ASCII, otherwise a JSON string literal in pure printable ASCII (`"a b"`,
 * `"\u001b[31m"`), which reads back with `JSON.parse`.
 *
 * @param value The value, as it came.
 * @returns The value as it may appear after `key=`.
 */
export function escapeTextValue(value: string): string {
  if (BARE_VALUE.test(value)) return value;
  return JSON.stringify(value).replace(NOT_PRINTABLE_ASCII, unicodeEscape);
}

/**
 * An event name or key for the text format. They are ours, not client
 * data; this only guarantees that one containing a control character by
 * mistake still cannot break the line.
 *
 * @param name The event name or key.
 * @returns `name`, with anything outside printable ASCII escaped.
 */
export function escapeTextName(name: string): string {
  return name.replace(/[^\x21-\x7e]/g, unicodeEscape);
}

/**
 * A JSON-format line made safe to show: `JSON.stringify` escapes only the
 * controls below 0x20, so the others are escaped here. They can only occur
 * inside strings, where `\uXXXX` means the same character.
 *
 * @param json The output of `JSON.stringify`.
 * @returns The same JSON value, with the unsafe characters escaped.
 */
export function escapeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, unicodeEscape);
}
