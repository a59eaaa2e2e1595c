/**
 * Whether `a` and `b` hold the same bytes.
 *
 * @param a One byte array.
 * @param b The other.
 * @returns True when lengths and every byte match.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
