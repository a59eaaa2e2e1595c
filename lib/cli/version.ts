/**
 * The release version, read from `deno.json` so there is one source of
 * truth; the import is static, so compiled binaries embed it.
 *
 * @module
 */

import config from "../../deno.json" with { type: "json" };

/** This release's version, e.g. `0.1.0`. */
export const VERSION: string = config.version;
