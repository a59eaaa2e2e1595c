/**
 * Builds the real binaries and runs them. `deno compile` downloads its base
 * runtime (denort) on first use; where that download is impossible this
 * test is reported as ignored with the reason, never as passed.
 */

import assert from "node:assert/strict";
import {
  compileArgs,
  isRuntimeDownloadFailure,
  PERMISSIONS,
  V8_FLAGS,
  WORKER_MODULES,
} from "../tools/compile.ts";
import { VERSION } from "../lib/cli/mod.ts";
import { LineCollector } from "./_helpers.ts";

const outDir = Deno.makeTempDirSync({ prefix: "echo-compile-" });
const serverExe = `${outDir}/echo-server`;
const clientExe = `${outDir}/echo-client`;

/** Compiles both programs up front; returns why they could not be built. */
async function build(): Promise<string | undefined> {
  for (
    const [program, output] of [["echo-server", serverExe], [
      "echo-client",
      clientExe,
    ]] as const
  ) {
    const result = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(program, output),
      stdout: "null",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    if (!result.success) {
      if (isRuntimeDownloadFailure(stderr)) {
        return "deno compile could not download its base runtime (denort)";
      }
      throw new Error(`deno compile failed:\n${stderr}`);
    }
  }
  return undefined;
}

const skipReason = await build();
if (skipReason !== undefined) {
  Deno.removeSync(outDir, { recursive: true });
  // Visible in the test output next to the "ignored" count.
  // deno-lint-ignore no-console
  console.warn(`SKIP compiled binaries: ${skipReason}`);
}

Deno.test("compile tasks bake in network, file, named environment variables' and (server) the hostname's permission and nothing else, and embed the Worker modules", () => {
  assert.deepEqual(PERMISSIONS, {
    "echo-server": [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK,POD_NAME,POD_NAMESPACE,NODE_NAME",
      "--allow-sys=hostname",
    ],
    "echo-client": [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK",
    ],
  });
  for (const program of ["echo-server", "echo-client"] as const) {
    const args = compileArgs(program, "out");
    assert.ok(
      !args.some((arg) =>
        /^--allow-(run|ffi|all)|^--allow-sys(?!=hostname$)|^-A$|^--allow-env$/
          .test(arg)
      ),
    );
    for (const module of WORKER_MODULES[program]) {
      const at = args.findIndex((arg) => arg.endsWith(module));
      assert.equal(args[at - 1], "--include", `${program} embeds ${module}`);
      assert.ok(Deno.statSync(args[at] as string).isFile);
    }
  }
});

Deno.test("every Worker module in lib/ is embedded in a binary", () => {
  const embedded = new Set<string>(Object.values(WORKER_MODULES).flat());
  const root = new URL("../", import.meta.url);
  const workers = ["lib/cli", "lib/server"].flatMap((folder) =>
    [...Deno.readDirSync(new URL(folder, root))]
      .filter((entry) => /^_.*worker\.ts$/.test(entry.name))
      .map((entry) => `${folder}/${entry.name}`)
  );
  assert.ok(workers.length >= 4, workers.join());
  for (const worker of workers) {
    assert.ok(embedded.has(worker), `${worker} is in WORKER_MODULES`);
  }
});

Deno.test("deno task serve and client run with the V8 flags the binaries are compiled with", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  for (
    const [task, program] of [
      ["serve", "echo-server"],
      ["client", "echo-client"],
    ] as const
  ) {
    const flag = `--v8-flags=${V8_FLAGS[program].join(",")}`;
    assert.ok(
      (config.tasks[task] as string).split(" ").includes(flag),
      `deno task ${task} passes ${flag}`,
    );
    assert.ok(compileArgs(program, "out").includes(flag));
  }
});

Deno.test({
  name: `compiled echo-server and echo-client echo a message${
    skipReason ? ` (skipped: ${skipReason})` : ""
  }`,
  ignore: skipReason !== undefined,
  async fn(): Promise<void> {
    const server = new Deno.Command(serverExe, {
      args: ["--port", "0", "--workers", "2"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new LineCollector(server.stdout);
    const stderr = new LineCollector(server.stderr);
    try {
      const listening = await stdout.waitFor(/^listening on /);
      const port = listening.replace(/^.*:/, "");
      const client = await new Deno.Command(clientExe, {
        args: ["--port", port, "compiled", "ok"],
      }).output();
      assert.equal(client.code, 0);
      assert.equal(new TextDecoder().decode(client.stdout), "compiled ok\n");
      // bench runs its load in an embedded Worker.
      const bench = await new Deno.Command(clientExe, {
        args: ["bench", "--port", port, "--count", "100", "--json"],
      }).output();
      assert.equal(bench.code, 0);
      assert.equal(
        JSON.parse(new TextDecoder().decode(bench.stdout)).completed,
        100,
      );
      const version = await new Deno.Command(clientExe, { args: ["--version"] })
        .output();
      assert.equal(
        new TextDecoder().decode(version.stdout),
        `echo-client ${VERSION}\n`,
      );
    } finally {
      server.kill("SIGTERM");
      await server.status;
      await Promise.all([stdout.done, stderr.done]);
      Deno.removeSync(outDir, { recursive: true });
    }
  },
});
