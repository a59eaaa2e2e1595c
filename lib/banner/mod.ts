/**
 * The banner line that says which backend answered: the server's template
 * and its rendering (`--banner`), the client's reading of it, and the
 * count of answers per backend. It knows nothing about echo loops, flags
 * or where the facts come from (the command line reads the hostname and
 * the environment).
 *
 * @module
 */

export * from "./banner_template.ts";
export * from "./read_banner.ts";
export * from "./backend_tally.ts";
