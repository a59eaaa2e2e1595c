/**
 * The PROXY protocol (v1 text and v2 binary) that load balancers such as
 * HAProxy send first on a connection to say who the client is: parsing,
 * reading it from a connection with a deadline, and encoding it for
 * clients that test PROXY-protocol services. It knows nothing about echo,
 * access rules or flags.
 *
 * @module
 */

export * from "./proxy_header.ts";
export * from "./read_proxy_header.ts";
