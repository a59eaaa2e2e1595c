/**
 * The admin endpoint: health, readiness and Prometheus metrics over a
 * small, bounded HTTP server. It is handed callbacks for readiness and the
 * metrics text; it knows nothing about what the server counts, or flags.
 *
 * @module
 */

export * from "./admin_server.ts";
