/**
 * The README as a tested contract: every command in a `sh run` fence runs
 * as written (see `_readme_session.ts` for the ports and files it maps)
 * and prints what the README shows; fences that need the internet, Docker
 * or a cluster are reported as ignored, with the reason.
 */

import { readmeFences } from "./_readme_fences.ts";
import { ReadmeSection, readmeWorkspace } from "./_readme_session.ts";

const README = new URL("../../README.md", import.meta.url);

Deno.test("README: every runnable command works as written", async (t) => {
  const fences = readmeFences(await Deno.readTextFile(README));
  await using workspace = await readmeWorkspace();
  let section: ReadmeSection | undefined;
  try {
    for (const fence of fences) {
      const name = `README.md:${fence.line} (${fence.section})`;
      if (!fence.action.run) {
        await t.step({
          name: `${name}: skipped, ${fence.action.reason}`,
          ignore: true,
          fn: () => {},
        });
        continue;
      }
      if (section?.name !== fence.section) {
        await section?.[Symbol.asyncDispose]();
        section = new ReadmeSection(workspace, fence.section);
      }
      const current = section;
      await t.step(name, async () => {
        for (const command of fence.commands) await current.run(command);
      });
    }
  } finally {
    await section?.[Symbol.asyncDispose]();
  }
});
