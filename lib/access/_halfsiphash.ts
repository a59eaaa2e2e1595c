/**
 * HalfSipHash-2-4 with a 32-bit result: a keyed hash (a PRF) for hash
 * tables whose keys a client chooses. Without the key, a client cannot
 * pick keys that land together, so it cannot make probe runs long.
 *
 * HalfSipHash is SipHash (Aumasson and Bernstein) on 32-bit words, from
 * the authors' reference implementation; 32-bit words are what JavaScript
 * computes on without BigInt. It is the variant Linux uses (`hsiphash`)
 * for the same purpose.
 *
 * @module
 */

const ROUNDS_PER_WORD = 2;
const FINAL_ROUNDS = 4;

/**
 * HalfSipHash-2-4 of `words`, read as little-endian 32-bit words (so the
 * message is `4 * words.length` bytes), under the 64-bit key
 * `key0`, `key1`.
 *
 * @param words The message, at most 63 words.
 * @param key0 The key's first (little-endian) 32 bits.
 * @param key1 The key's last 32 bits.
 * @returns The 32-bit hash, from 0 to 2^32 - 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { halfSipHash } from "./_halfsiphash.ts";
 * // The reference implementation's first test vector: the empty
 * // message under the key 00 01 … 07.
 * assert.equal(halfSipHash([], 0x03020100, 0x07060504), 0x5b9f35a9);
 * ```
 */
export function halfSipHash(
  words: ArrayLike<number>,
  key0: number,
  key1: number,
): number {
  let v0 = key0 | 0;
  let v1 = key1 | 0;
  let v2 = 0x6c796765 ^ key0;
  let v3 = 0x74656462 ^ key1;
  const rounds = (count: number): void => {
    for (let i = 0; i < count; i++) {
      v0 = (v0 + v1) | 0;
      v1 = rotateLeft(v1, 5) ^ v0;
      v0 = rotateLeft(v0, 16);
      v2 = (v2 + v3) | 0;
      v3 = rotateLeft(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = rotateLeft(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = rotateLeft(v1, 13) ^ v2;
      v2 = rotateLeft(v2, 16);
    }
  };
  for (let i = 0; i < words.length; i++) {
    const word = (words[i] as number) | 0;
    v3 ^= word;
    rounds(ROUNDS_PER_WORD);
    v0 ^= word;
  }
  // The last block: the message's length in bytes (mod 256) in its top
  // byte; whole words leave no tail bytes below it.
  const last = ((words.length * 4) & 0xff) << 24;
  v3 ^= last;
  rounds(ROUNDS_PER_WORD);
  v0 ^= last;
  v2 ^= 0xff;
  rounds(FINAL_ROUNDS);
  return (v1 ^ v3) >>> 0;
}

function rotateLeft(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}
