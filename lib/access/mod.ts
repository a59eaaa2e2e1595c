/**
 * Who may connect, and how often: CIDR ranges (`--allow`, `--deny`) and a
 * per-address connection limit shared by every thread. It works on
 * addresses only; it knows nothing about sockets, PROXY headers or flags.
 *
 * @module
 */

export * from "./access_policy.ts";
export * from "./address_limit.ts";
export * from "./cidr.ts";
