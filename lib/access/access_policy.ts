/**
 * Who may connect: `--allow` and `--deny` ranges, applied to the client's
 * effective address (the PROXY protocol's source address when there is
 * one). Deny wins; with any allow range, everything else is denied.
 *
 * @module
 */

import { type Cidr, cidrContains, parseIp } from "./cidr.ts";

/** Ranges that may and may not connect. */
export interface AccessRules {
  /** If any, only addresses in these may connect. */
  allow: Cidr[];
  /** Addresses in these may never connect. */
  deny: Cidr[];
}

/**
 * Whether `address` may connect under `rules`.
 *
 * @param rules The allow and deny ranges.
 * @param address The client's effective address (IPv6 without brackets).
 * @returns True if allowed.
 *
 * @example
 * ```ts
 * import { isAllowed } from "./access_policy.ts";
 * import { parseCidr } from "./cidr.ts";
 * isAllowed({ allow: [parseCidr("127.0.0.5")], deny: [] }, "127.0.0.6"); // false
 * ```
 */
export function isAllowed(rules: AccessRules, address: string): boolean {
  if (rules.allow.length === 0 && rules.deny.length === 0) return true;
  const ip = parseIp(address);
  if (rules.deny.some((range) => cidrContains(range, ip))) return false;
  return rules.allow.length === 0 ||
    rules.allow.some((range) => cidrContains(range, ip));
}
