/**
 * Limits of UDP that the server, the client and the command line share.
 *
 * @module
 */

/**
 * The largest UDP payload: 65,535 bytes of IP payload less the 8-byte UDP
 * header (IPv6; over IPv4 the 20-byte IP header leaves 65,507).
 */
export const MAX_UDP_PAYLOAD = 65_527;

/** The largest UDP payload over IPv4: 65,535 less 20 (IP) and 8 (UDP). */
export const MAX_UDP_PAYLOAD_IPV4 = 65_507;
