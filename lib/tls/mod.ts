/**
 * TLS material for the server: a generated self-signed certificate, the
 * check that a key belongs to its certificate, and fingerprints. It knows
 * nothing about flags or files named on the command line.
 *
 * @module
 */

export * from "./certificate.ts";
