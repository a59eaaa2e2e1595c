/**
 * `deno task check:layout`: enforces the layout described in the README's
 * "How the code is laid out".
 *
 * - `lib/` holds one folder per concern. A folder imports another only
 *   through that folder's `mod.ts`, and only a folder of a lower layer:
 *   entries → cli → server, bench, ping, soak → client, admin →
 *   tls, proxy, access, metrics → net → log.
 * - Private files (`_name.ts`) are imported from their own folder only.
 * - No import cycles, inside a folder or across folders.
 *
 * Prints each offending import as `file: imports "specifier": why` and
 * exits 1 if there is any.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/**
 * Layers, lowest first. A folder may import folders of lower layers only;
 * folders of one layer never import each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["log"],
  ["net", "thread"],
  ["tls", "proxy", "access", "metrics", "faults", "banner"],
  ["client", "admin"],
  ["server", "bench", "ping", "soak", "doctor"],
  ["cli"],
];

/** The entry scripts, above every folder. */
export const ENTRIES = ["server.ts", "client.ts"] as const;

/** One import that breaks the layout. */
export interface Violation {
  /** The importing file, relative to the project root. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** Which rule it breaks. */
  reason: string;
}

const IMPORT_PATTERN =
  /^\s*(?:import|export)\b[^"';]*?from\s*["'](\.[^"']+)["']|^\s*import\s*["'](\.[^"']+)["']|new URL\(\s*["'](\.[^"']+\.ts)["']\s*,\s*import\.meta\.url/gm;

/** One relative module reference in a module. */
export interface ModuleReference {
  /** The specifier as written. */
  specifier: string;
  /**
   * A Worker's module (`new URL("./x.ts", import.meta.url)`): it must obey
   * the layers too, but it starts a module graph of its own, so it closes
   * no import cycle.
   */
  worker: boolean;
}

/**
 * The relative modules `source` refers to (static imports and re-exports,
 * and `new URL("./x.ts", import.meta.url)` for workers); comments are
 * skipped, so JSDoc examples do not count.
 *
 * @param source A module's text.
 * @returns The references, in order.
 */
export function relativeImports(source: string): ModuleReference[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /^\s*\/\/.*$/gm,
    "",
  );
  return [...code.matchAll(IMPORT_PATTERN)].map((match) => ({
    specifier: (match[1] ?? match[2] ?? match[3]) as string,
    worker: match[3] !== undefined,
  }));
}

function layerOf(folder: string): number {
  if (folder === "") return LAYERS.length; // lib/mod.ts and the entries
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

/**
 * Checks one import of `file` (both relative to the project root, with
 * `/` separators) against the layout rules.
 *
 * @param file The importing file, e.g. `lib/server/echo_server.ts`.
 * @param target The imported file, resolved, e.g. `lib/log/mod.ts`.
 * @returns Why the import breaks the layout, or undefined if it does not.
 */
export function checkImport(file: string, target: string): string | undefined {
  if (!target.startsWith("lib/")) return undefined;
  const from = folderOf(file);
  const to = folderOf(target);
  const name = target.slice(target.lastIndexOf("/") + 1);
  if (to === undefined || from === to) return undefined;
  if (to === "") return `lib/${name} is the public API, not for lib's own use`;
  if (name.startsWith("_")) {
    return `${name} is private to lib/${to}/`;
  }
  if (name !== "mod.ts") {
    return `other folders import lib/${to}/ through lib/${to}/mod.ts`;
  }
  if (from === undefined) return undefined; // entries, lib/mod.ts
  const fromLayer = layerOf(from);
  const toLayer = layerOf(to);
  if (fromLayer === -1) return `lib/${from}/ is not in any layer`;
  if (toLayer === -1) return `lib/${to}/ is not in any layer`;
  if (toLayer === fromLayer) {
    return `lib/${from}/ and lib/${to}/ are side by side; move what they share down`;
  }
  if (toLayer > fromLayer) {
    return `lib/${to}/ is above lib/${from}/; imports point down only`;
  }
  return undefined;
}

/** `lib/x/…` → `x`; `lib/mod.ts` → ""; anything else → undefined. */
function folderOf(file: string): string | undefined {
  const parts = file.split("/");
  if (parts[0] !== "lib") return undefined;
  return parts.length === 2 ? "" : parts[1];
}

function resolve(file: string, specifier: string): string {
  return new URL(specifier, new URL(file, ROOT)).pathname.slice(
    ROOT.pathname.length,
  );
}

async function* libFiles(dir = "lib"): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* libFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/**
 * Finds an import cycle in `graph`, if any.
 *
 * @param graph Each file's imported files.
 * @returns The files of one cycle, first repeated at the end, or undefined.
 */
export function findCycle(
  graph: ReadonlyMap<string, readonly string[]>,
): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === "done") return undefined;
    if (state.get(file) === "visiting") {
      return [...path.slice(path.indexOf(file)), file];
    }
    state.set(file, "visiting");
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(file, "done");
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/**
 * Checks every module under `lib/` and the entries.
 *
 * @returns The violations, empty when the layout holds.
 */
export async function checkLayout(): Promise<Violation[]> {
  const files: string[] = [...ENTRIES];
  for await (const file of libFiles()) files.push(file);
  const violations: Violation[] = [];
  const graph = new Map<string, string[]>();
  for (const file of files.sort()) {
    const source = await Deno.readTextFile(new URL(file, ROOT));
    const targets: string[] = [];
    for (const { specifier, worker } of relativeImports(source)) {
      const target = resolve(file, specifier);
      if (!worker) targets.push(target);
      const reason = checkImport(file, target);
      if (reason !== undefined) violations.push({ file, specifier, reason });
    }
    graph.set(file, targets);
  }
  const cycle = findCycle(graph);
  if (cycle !== undefined) {
    violations.push({
      file: cycle[0] as string,
      specifier: cycle[1] as string,
      reason: `import cycle: ${cycle.join(" → ")}`,
    });
  }
  return violations;
}

if (import.meta.main) {
  const violations = await checkLayout();
  const encoder = new TextEncoder();
  for (const { file, specifier, reason } of violations) {
    Deno.stderr.writeSync(
      encoder.encode(`${file}: imports "${specifier}": ${reason}\n`),
    );
  }
  if (violations.length > 0) {
    Deno.stderr.writeSync(encoder.encode(
      `layout: ${violations.length} import(s) break the layout (see README, "How the code is laid out")\n`,
    ));
    Deno.exit(1);
  }
}
