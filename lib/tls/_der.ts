/**
 * The few DER (ASN.1 Distinguished Encoding Rules) encoders a self-signed
 * X.509 certificate needs. Each returns one complete TLV (tag, length,
 * value); structures are built by nesting calls.
 */

/** Universal tags used below. */
const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  boolean: 0x01,
} as const;

/** One TLV with `tag` around `content`. */
export function tlv(
  tag: number,
  ...content: Uint8Array[]
): Uint8Array<ArrayBuffer> {
  const body = concat(content);
  return concat([Uint8Array.of(tag), encodeLength(body.length), body]);
}

/** SEQUENCE of the given elements. */
export function sequence(...elements: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return tlv(TAG.sequence, ...elements);
}

/** SET of the given elements (callers pass them in DER order). */
export function set(...elements: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return tlv(TAG.set, ...elements);
}

/**
 * INTEGER from big-endian unsigned bytes: leading zeros are dropped and a
 * zero byte is added when the top bit is set, so the value stays positive.
 */
export function unsignedInteger(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const padded = (trimmed[0] ?? 0) & 0x80
    ? concat([Uint8Array.of(0), trimmed])
    : trimmed;
  return tlv(TAG.integer, padded.length === 0 ? Uint8Array.of(0) : padded);
}

/** INTEGER for a small non-negative number. */
export function smallInteger(value: number): Uint8Array<ArrayBuffer> {
  return unsignedInteger(Uint8Array.of(value));
}

/** OBJECT IDENTIFIER from dotted text, e.g. `2.5.4.3`. */
export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (
      let value = Math.floor(arc / 128);
      value > 0;
      value = Math.floor(value / 128)
    ) {
      base128.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...base128);
  }
  return tlv(TAG.oid, Uint8Array.from(bytes));
}

/** UTF8String. */
export function utf8String(text: string): Uint8Array<ArrayBuffer> {
  return tlv(TAG.utf8String, new TextEncoder().encode(text));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return tlv(TAG.octetString, bytes);
}

/** BIT STRING of whole bytes, with `unusedBits` unused in the last one. */
export function bitString(
  bytes: Uint8Array,
  unusedBits = 0,
): Uint8Array<ArrayBuffer> {
  return tlv(TAG.bitString, Uint8Array.of(unusedBits), bytes);
}

/** BOOLEAN. */
export function boolean(value: boolean): Uint8Array<ArrayBuffer> {
  return tlv(TAG.boolean, Uint8Array.of(value ? 0xff : 0));
}

/** UTCTime `YYMMDDHHMMSSZ` (years 1950–2049). */
export function utcTime(date: Date): Uint8Array<ArrayBuffer> {
  const two = (n: number) => String(n).padStart(2, "0");
  const text = two(date.getUTCFullYear() % 100) + two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) + two(date.getUTCHours()) +
    two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + "Z";
  return tlv(TAG.utcTime, new TextEncoder().encode(text));
}

/** Context-specific tag `number`, constructed (EXPLICIT wrapping). */
export function explicit(
  number: number,
  content: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return tlv(0xa0 | number, content);
}

/** Context-specific tag `number`, primitive (IMPLICIT, e.g. GeneralName). */
export function implicit(
  number: number,
  bytes: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return tlv(0x80 | number, bytes);
}

function encodeLength(length: number): Uint8Array<ArrayBuffer> {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let value = length; value > 0; value = Math.floor(value / 256)) {
    bytes.unshift(value & 0xff);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** The bytes of all `parts`, one after another. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
