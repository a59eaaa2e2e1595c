/**
 * Fault injection: the faults a server can apply on purpose (delay,
 * throttle, small pieces, early close or reset, silence, UDP loss), the
 * board every thread reads them from, and the seeded dice and the pacer
 * they use. It knows nothing of connections: the server applies them.
 *
 * @module
 */

export * from "./fault_settings.ts";
export * from "./fault_board.ts";
export * from "./fault_dice.ts";
export * from "./pacer.ts";
