/**
 * The `deno task` tools behave like the programs: `--help` prints help and
 * exits 0; a bad flag or value is one line on stderr and exit 2.
 */

import assert from "node:assert/strict";
import { runScript } from "../_helpers.ts";

const TOOLS = ["soak", "bench", "compile"].map((name) =>
  new URL(`../../tools/${name}.ts`, import.meta.url).pathname
);

for (const tool of TOOLS) {
  const name = tool.replace(/.*\/(\w+)\.ts$/, "$1");
  Deno.test(`tools/${name}.ts --help prints help and exits 0; a bad flag is one line and exit 2`, async () => {
    const help = await runScript(tool, ["--help"], undefined, ["--allow-all"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(new TextDecoder().decode(help.stdout), /\nUsage: deno task /);
    const bad = await runScript(tool, ["--bogus"], undefined, ["--allow-all"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'error: Unknown flag "--bogus": see --help\n');
  });
}

Deno.test("deno task soak --duration foo is a usage error, not a stack trace", async () => {
  const [soak] = TOOLS;
  const result = await runScript(soak!, ["--duration", "foo"], undefined, [
    "--allow-all",
  ]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: --duration: Invalid duration "foo"/);
  assert.equal(result.stderr.split("\n").length, 2, "one line");
});
