import assert from "node:assert/strict";
import { missingOutput, readmeFences } from "./_readme_fences.ts";
import { ReadmeSection, readmeWorkspace } from "./_readme_session.ts";

const FENCE = "```";

Deno.test("readmeFences: commands, continuation lines and expected output", () => {
  const [fence, skipped] = readmeFences([
    "## Try it",
    `${FENCE}sh run`,
    "echo-server --port 9000 &   # → listening on 127.0.0.1:9000",
    "openssl req -x509 \\",
    "  -days 30",
    "# a comment",
    "echo-client hello",
    "# → hello",
    FENCE,
    "",
    `${FENCE}text output`,
    "more",
    FENCE,
    `${FENCE}sh skip=docker`,
    "docker run echo",
    FENCE,
  ].join("\n"));
  assert.deepEqual(fence, {
    section: "Try it",
    line: 2,
    action: { run: true },
    commands: [
      {
        text: "echo-server --port 9000 &",
        expected: ["listening on 127.0.0.1:9000"],
        line: 3,
      },
      { text: "openssl req -x509 -days 30", expected: [], line: 4 },
      { text: "echo-client hello", expected: ["hello", "more"], line: 7 },
    ],
  });
  assert.deepEqual(skipped?.action, {
    run: false,
    reason: "needs a Docker engine",
  });
});

Deno.test("readmeFences: an unmarked or wrongly marked command fence is an error", () => {
  for (
    const info of ["sh", "bash", "powershell", "sh skip=later", "sh run now"]
  ) {
    assert.throws(
      () => readmeFences(`# A\n\n${FENCE}${info}\nls\n${FENCE}\n`),
      /README\.md:3: mark the fence "run" or "skip=internet\|docker/,
    );
  }
  assert.throws(
    () => readmeFences(`${FENCE}text output\nx\n${FENCE}\n`),
    /must follow a "sh run" fence/,
  );
});

Deno.test("missingOutput: numbers and … match anything, order counts", () => {
  const output = [
    "listening on 127.0.0.1:41234",
    "rtt min/avg/max/mdev = 0.1/0.2/0.3/0.01 ms, p99 0.3 ms",
  ];
  assert.equal(
    missingOutput([
      "listening on 127.0.0.1:7007",
      "rtt min/avg/max/mdev = 0.341/0.368/0.402/0.025 ms, p99 0.402 ms",
    ], output),
    undefined,
  );
  assert.equal(missingOutput(["listening on …"], output), undefined);
  assert.equal(
    missingOutput(["echoed in 414 µs (limit 10.0 s)"], [
      "echoed in 2.80 ms (limit 10.0 s)",
    ]),
    undefined,
    "a time matches a time in another unit",
  );
  assert.equal(
    missingOutput(["listening on udp 127.0.0.1:7007"], output),
    "listening on udp 127.0.0.1:7007",
  );
  assert.equal(
    missingOutput([output[1] as string, output[0] as string], output),
    output[0],
  );
});

Deno.test("missingOutput: order counts within stdout and within stderr, not across; spaces squeeze", () => {
  const stdout = ["exit 1"];
  const stderr = ["error: gone", "by cause       reset 3 (replaced)"];
  assert.equal(
    missingOutput(
      ["error: gone", "exit 1", "by cause reset … (replaced)"],
      stdout,
      stderr,
    ),
    undefined,
  );
  assert.equal(
    missingOutput(
      ["by cause reset 3 (replaced)", "error: gone"],
      stdout,
      stderr,
    ),
    "error: gone",
  );
});

Deno.test("a README example that is broken fails, quoting its output", async () => {
  await using workspace = await readmeWorkspace();
  await using section = new ReadmeSection(workspace, "broken");
  const command = (text: string, expected: string[] = []) => ({
    text,
    expected,
    line: 1,
  });
  await section.run(command("echo-server --port 9000 &"));
  await assert.rejects(
    section.run(command("echo-client --port 9000 hello", ["goodbye"])),
    /`echo-client --port \d+ hello` did not print "goodbye"\n {2}stdout\| hello/,
  );
  await assert.rejects(
    section.run(command("echo-client --port 9000 --no-such-flag hi")),
    /exited with 2\n.*stderr\| error: Unknown flag "--no-such-flag"/,
  );
  await assert.rejects(
    section.run(command("echo-server --port 9000")),
    /exited without listening[\s\S]*already in use/,
  );
});
