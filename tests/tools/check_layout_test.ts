import assert from "node:assert/strict";
import {
  checkImport,
  checkLayout,
  findCycle,
  LAYERS,
  relativeImports,
} from "../../tools/check_layout.ts";

Deno.test("layout check allows imports down through mod.ts and inside a folder", () => {
  assert.equal(
    checkImport("lib/server/echo_server.ts", "lib/net/mod.ts"),
    undefined,
  );
  assert.equal(
    checkImport("lib/cli/server_flags.ts", "lib/server/mod.ts"),
    undefined,
  );
  assert.equal(
    checkImport("lib/server/worker_pool.ts", "lib/server/_worker.ts"),
    undefined,
  );
  assert.equal(checkImport("server.ts", "lib/cli/mod.ts"), undefined);
  assert.equal(checkImport("lib/mod.ts", "lib/cli/mod.ts"), undefined);
});

Deno.test("layout check names imports that go up, sideways, past mod.ts or into a private file", () => {
  assert.match(
    checkImport("lib/net/connect.ts", "lib/cli/mod.ts") ?? "",
    /imports point down only/,
  );
  assert.match(
    checkImport("lib/bench/report.ts", "lib/ping/mod.ts") ?? "",
    /side by side/,
  );
  assert.match(
    checkImport("lib/server/echo_server.ts", "lib/net/connect.ts") ?? "",
    /through lib\/net\/mod\.ts/,
  );
  assert.match(
    checkImport("lib/cli/flags.ts", "lib/server/_buffer_sizing.ts") ?? "",
    /private to lib\/server/,
  );
  assert.match(
    checkImport("lib/server/echo_server.ts", "lib/mod.ts") ?? "",
    /public API/,
  );
});

Deno.test("layout check reads static imports and worker URLs, not comments", () => {
  const source = `
/**
 * import { x } from "./in_a_comment.ts";
 */
// import { y } from "./commented_out.ts";
import { a } from "./a.ts";
import type { B } from "../b/mod.ts";
export * from "./c.ts";
import "./side_effect.ts";
new Worker(new URL("./_worker.ts", import.meta.url).href);
`;
  assert.deepEqual(relativeImports(source), [
    { specifier: "./a.ts", worker: false },
    { specifier: "../b/mod.ts", worker: false },
    { specifier: "./c.ts", worker: false },
    { specifier: "./side_effect.ts", worker: false },
    { specifier: "./_worker.ts", worker: true },
  ]);
});

Deno.test("layout check finds an import cycle and none in a tree", () => {
  assert.deepEqual(
    findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]])),
    ["a", "b", "c", "a"],
  );
  assert.equal(
    findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]]])),
    undefined,
  );
});

Deno.test("the project's own layout holds", async () => {
  assert.deepEqual(await checkLayout(), []);
});

Deno.test("the README's layout section names every lib/ folder and the layers the check enforces", async () => {
  const readme = await Deno.readTextFile(
    new URL("../../README.md", import.meta.url),
  );
  const start = readme.indexOf("### How the code is laid out");
  const section = readme.slice(start, readme.indexOf("\n## ", start));
  const folders: string[] = [];
  for await (
    const entry of Deno.readDir(new URL("../../lib", import.meta.url))
  ) {
    if (entry.isDirectory) folders.push(entry.name);
  }
  const missing = folders.filter((folder) =>
    !section.includes(`lib/${folder}/`)
  );
  assert.deepEqual(missing, [], "folders the README does not describe");
  const layers = [
    "entries",
    ...LAYERS.toReversed().map((layer) => layer.join(", ")),
  ]
    .join(" → ");
  assert.ok(
    section.replace(/\s+/g, " ").includes(layers),
    `the README should state the layers as: ${layers}`,
  );
});
