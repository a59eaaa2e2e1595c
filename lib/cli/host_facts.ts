/**
 * What this host is called, for `--banner` and `/info`: the hostname, and
 * the pod, namespace and node that Kubernetes' downward API puts in the
 * environment (the manifests set `POD_NAME`, `POD_NAMESPACE` and
 * `NODE_NAME`).
 *
 * @module
 */

import type { HostFacts } from "../banner/mod.ts";
import { VERSION } from "./version.ts";

/** The environment variables read, by the field they fill. */
export const HOST_ENV = {
  pod: "POD_NAME",
  namespace: "POD_NAMESPACE",
  node: "NODE_NAME",
} as const;

/**
 * Reads the host's name and the downward API's variables. Each needs a
 * permission (`--allow-sys=hostname`, `--allow-env=POD_NAME,…`); one the
 * process lacks leaves its field out. Only what is granted already is
 * read: under `deno run` on a terminal, asking would stop the server at a
 * permission prompt.
 *
 * @returns What could be read, and this release's version.
 *
 * @example
 * ```ts
 * import { readHostFacts } from "./host_facts.ts";
 * readHostFacts().version; // "0.1.0"
 * ```
 */
export function readHostFacts(): HostFacts {
  const facts: HostFacts = { version: VERSION };
  if (missingPermission("hostname") === undefined) {
    const hostname = Deno.hostname();
    if (hostname !== "") facts.hostname = hostname;
  }
  for (const [field, name] of Object.entries(HOST_ENV)) {
    if (missingPermission(field as keyof typeof HOST_ENV) !== undefined) {
      continue;
    }
    const value = Deno.env.get(name);
    if (value !== undefined && value !== "") {
      facts[field as keyof typeof HOST_ENV] = value;
    }
  }
  return facts;
}

/**
 * The permission `field` needs under `deno run`, when this process lacks
 * it; undefined when it has it.
 *
 * @param field A host field.
 * @returns The flag to run with, e.g. `--allow-sys=hostname`.
 */
export function missingPermission(
  field: "hostname" | keyof typeof HOST_ENV,
): string | undefined {
  const descriptor: Deno.PermissionDescriptor = field === "hostname"
    ? { name: "sys", kind: "hostname" }
    : { name: "env", variable: HOST_ENV[field] };
  if (Deno.permissions.querySync(descriptor).state === "granted") {
    return undefined;
  }
  return field === "hostname"
    ? "--allow-sys=hostname"
    : `--allow-env=${HOST_ENV[field]}`;
}
