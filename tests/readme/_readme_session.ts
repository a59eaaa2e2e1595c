/**
 * Runs README commands the way a reader does, in a scratch copy of the
 * project: servers in their own terminal (or with `&`, in the background),
 * clients one after another, each with the output the README promises.
 *
 * What differs from a reader's machine, and why:
 * - Ports: each README port (7007, 7008, 9000, 9001, 9090) is replaced by a
 *   free one, and a server or client command that relies on the default
 *   port gets `--port`, so tests never collide with anything.
 * - Files: the commands run in a copy of the project (files they write stay
 *   there), `/tmp/` names a folder inside it, and the inputs the examples
 *   name (`disk.img`, `server.crt`, `server.key`) are made first.
 * - `echo-server` and `echo-client` are the task forms
 *   (`deno task serve|client`), as the README says for source users; `nc`
 *   is OpenBSD netcat, as the README's comment says.
 * - Signals: each command runs in its own process group with SIGPIPE at
 *   its default (Deno's children inherit it ignored), as in a terminal.
 *
 * @module
 */

import { LineCollector } from "../_helpers.ts";
import { missingOutput, type ReadmeCommand } from "./_readme_fences.ts";

/** The ports README examples name, each mapped to a free one. */
export const README_PORTS = [7007, 7008, 9000, 9001, 9090] as const;

/** The port the programs use when none is given. */
const DEFAULT_PORT = 7007;

/** The longest any one command may run. */
const COMMAND_TIMEOUT_MS = 60_000;

/** The longest a stopped server may take to drain and exit. */
const STOP_TIMEOUT_MS = 15_000;

/** Output no documented command may print. */
const FORBIDDEN_OUTPUT =
  /Uncaught|panicked|without fair scheduling|^warning:|stack backtrace/i;

/** An invocation of our server. */
const ECHO_SERVER = /(?:\becho-server|\btask serve|\bserver\.ts)\b/;

/** An invocation of our programs, with a subcommand if any. */
const ECHO_PROGRAM =
  /(?:\becho-server|\becho-client|\btask (?:serve|client)|\b(?:server|client)\.ts)\b(?:\s+(?:bench|ping|doctor|merge)\b)?/g;

/** Arguments that already say where to listen or connect. */
const HAS_ENDPOINT = /--port\b|--unix\b|--host[ =]'?(?:\[[^\]]*\]|[^\s:']+):\d/;

const ROOT = new URL("../../", import.meta.url);

/** Tools the runnable examples call, with the Debian package of each. */
const TOOLS: Readonly<Record<string, string>> = {
  openssl: "openssl",
  socat: "socat",
  ncat: "ncat",
  "nc.openbsd": "netcat-openbsd",
  npx: "npm",
  curl: "curl",
  haproxy: "haproxy",
};

/** A scratch copy of the project with the examples' inputs. */
export interface ReadmeWorkspace extends AsyncDisposable {
  /** Where the commands run. */
  dir: string;
  /** Environment for the commands (`PATH` with the program forms). */
  env: Record<string, string>;
}

/**
 * Copies the project into a temporary folder, makes `disk.img` (4 MiB of
 * random bytes) and `server.crt`/`server.key` (an openssl certificate for
 * echo.example.net, localhost and 127.0.0.1), and puts `echo-server`,
 * `echo-client` and `nc` on the `PATH`.
 *
 * @throws {Error} Naming the Debian package of a missing tool.
 */
export async function readmeWorkspace(): Promise<ReadmeWorkspace> {
  const tools = await findTools();
  const dir = await Deno.makeTempDir({ prefix: "echo-readme-" });
  const bin = `${dir}/.bin`;
  await Deno.mkdir(bin);
  const copy = ["deno.json", "deno.lock", "server.ts", "client.ts", "lib"];
  await run("cp", [
    "-R",
    ...copy.map((name) => new URL(name, ROOT).pathname),
    dir,
  ]);
  await Deno.writeFile(`${dir}/disk.img`, randomFile(4 * 1024 * 1024));
  await run("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    ...["-nodes", "-keyout", `${dir}/server.key`, "-out", `${dir}/server.crt`],
    ...["-days", "2", "-subj", "/CN=echo.example.net"],
    "-addext",
    "subjectAltName=DNS:echo.example.net,DNS:localhost,IP:127.0.0.1",
    ...["-addext", "basicConstraints=critical,CA:FALSE"],
  ]);
  for (
    const [name, task] of [["echo-server", "serve"], ["echo-client", "client"]]
  ) {
    await Deno.writeTextFile(
      `${bin}/${name}`,
      `#!/bin/sh\nexec deno task --quiet --config "${dir}/deno.json" ${task} "$@"\n`,
      { mode: 0o755 },
    );
  }
  await Deno.symlink(tools["nc.openbsd"] as string, `${bin}/nc`);
  const denoDir = Deno.execPath().replace(/\/[^/]*$/, "");
  return {
    dir,
    env: { PATH: `${bin}:${denoDir}:${Deno.env.get("PATH") ?? ""}` },
    async [Symbol.asyncDispose](): Promise<void> {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function findTools(): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const [tool, pkg] of Object.entries(TOOLS)) {
    const which = await new Deno.Command("sh", {
      args: ["-c", `command -v ${tool}`],
      stdout: "piped",
    }).output();
    const path = new TextDecoder().decode(which.stdout).trim();
    if (!which.success || path === "") {
      throw new Error(
        `the README's examples need ${tool}: install the Debian package "${pkg}"`,
      );
    }
    found[tool] = path;
  }
  return found;
}

function randomFile(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65536));
  }
  return bytes;
}

async function run(program: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command(program, {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`${program} failed: ${new TextDecoder().decode(stderr)}`);
  }
}

/** A process started by a README command, in its own process group. */
interface Started {
  command: string;
  process: Deno.ChildProcess;
  stdout: LineCollector;
  stderr: LineCollector;
}

/**
 * One README section's commands, run in order. Servers keep running until
 * the section ends, except that a server started in the foreground (its
 * own terminal) is stopped, as with Ctrl-C, when the next foreground
 * server starts.
 */
export class ReadmeSection implements AsyncDisposable {
  /** The section's heading. */
  readonly name: string;
  readonly #workspace: ReadmeWorkspace;
  readonly #ports = new Map<number, number>();
  readonly #background: Started[] = [];
  #foreground: Started | undefined;

  constructor(workspace: ReadmeWorkspace, name: string) {
    this.#workspace = workspace;
    this.name = name;
  }

  /** The port this section uses for `readmePort`. */
  port(readmePort: number): number {
    let port = this.#ports.get(readmePort);
    if (port === undefined) {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      port = listener.addr.port;
      this.#ports.set(readmePort, port);
    }
    return port;
  }

  /** `command` with this section's ports and scratch folder. */
  localize(command: string): string {
    let text = this.#localPaths(command);
    for (const readmePort of README_PORTS) {
      text = text.replace(
        new RegExp(`\\b${readmePort}\\b`, "g"),
        () => String(this.port(readmePort)),
      );
    }
    return text.replace(ECHO_PROGRAM, (program, offset: number) => {
      const rest = text.slice(offset + program.length).split(/[|&;<>#]/)[0];
      // `merge` reads files and connects to nothing.
      return HAS_ENDPOINT.test(rest ?? "") || program.endsWith("merge")
        ? program
        : `${program} --port ${this.port(DEFAULT_PORT)}`;
    });
  }

  /** `text` with `/tmp/` in the scratch folder. */
  #localPaths(text: string): string {
    return text.replaceAll("/tmp/", `${this.#workspace.dir}/tmp-`);
  }

  /**
   * Runs one command: a server until it listens, anything else to its end.
   *
   * @throws {Error} If it fails, prints something forbidden, or does not
   *   print what the README shows; the message quotes its output.
   */
  async run(command: ReadmeCommand): Promise<void> {
    // A comment after the command (`haproxy … &   # on port 9000`) is the
    // reader's, and says which port a background program listens on.
    const code = command.text.replace(/\s+#\s.*$/, "");
    const background = /&$/.test(code) && !/&&$/.test(code);
    const text = this.localize(code.replace(/&$/, "").trim());
    const server = ECHO_SERVER.test(command.text);
    const expected = command.expected.map((line) => this.#localPaths(line));
    if (server && !background && this.#foreground !== undefined) {
      const previous = this.#foreground;
      this.#foreground = undefined;
      await stop(previous);
    }
    const started = this.#spawn(text);
    if (server || background) {
      try {
        await (server
          ? untilListening(started)
          : untilConnectable(started, this.localize(command.text)));
      } catch (error) {
        await kill(started);
        throw error;
      }
      if (server && !background) this.#foreground = started;
      else this.#background.push(started);
      check(started, expected, started.stdout.lines);
      return;
    }
    const status = await withTimeout(started, COMMAND_TIMEOUT_MS);
    await Promise.all([started.stdout.done, started.stderr.done]);
    if (!status.success) {
      throw failure(started, `exited with ${status.code}`);
    }
    check(started, expected, started.stdout.lines, started.stderr.lines);
  }

  #spawn(text: string): Started {
    // Deno ignores SIGPIPE, and its children inherit that; a terminal's
    // shell has the default, which ends `nc … | head` when head is done.
    const process = new Deno.Command("setsid", {
      args: ["env", "--default-signal=PIPE", "bash", "-c", text],
      cwd: this.#workspace.dir,
      env: this.#workspace.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return {
      command: text,
      process,
      stdout: new LineCollector(process.stdout),
      stderr: new LineCollector(process.stderr),
    };
  }

  /**
   * Stops every server as Ctrl-C would; our servers must drain and exit 0.
   *
   * @throws {Error} If one of our servers did not exit 0 with its summary.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const all = [...this.#background, this.#foreground].filter((s) =>
      s !== undefined
    );
    this.#background.length = 0;
    this.#foreground = undefined;
    const results = await Promise.allSettled(all.reverse().map(stop));
    const failed = results.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }
}

async function untilListening(started: Started): Promise<void> {
  const listening = await started.stdout.waitFor(/^listening on /);
  if (listening === "") {
    await started.process.status;
    await started.stderr.done;
    throw failure(started, "exited without listening");
  }
}

/** Waits for a non-echo background server (socat) to accept connections. */
async function untilConnectable(started: Started, text: string): Promise<void> {
  const port = Number(/\b(\d{4,5})\b/.exec(text)?.[1]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      // socat gives no sign that it listens: try again shortly.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw failure(started, `no listener on port ${port} within 10 s`);
}

/** Stops a server as Ctrl-C does (SIGINT to its process group). */
async function stop(started: Started): Promise<void> {
  try {
    Deno.kill(-started.process.pid, "SIGINT");
  } catch {
    // Already exited; its status tells.
  }
  const status = await withTimeout(started, STOP_TIMEOUT_MS);
  await Promise.all([started.stdout.done, started.stderr.done]);
  if (!ECHO_SERVER.test(started.command)) return;
  // npm exec (npx) exits 130 on SIGINT whatever its child did; the summary
  // line shows that the server's drain completed.
  const launcherCode = started.command.startsWith("npx ") ? 130 : 0;
  const exited = status.code === 0 || status.code === launcherCode;
  if (!exited || started.stderr.count(/ stopped /) !== 1) {
    throw failure(
      started,
      `did not drain and exit 0 on Ctrl-C (exit ${status.code})`,
    );
  }
  check(started, []);
}

async function withTimeout(
  started: Started,
  ms: number,
): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  // Its output too: a process it left behind (`cmd &` inside the command)
  // holds the pipes open, and must fail the step, not hang the test.
  const finished = Promise.all([
    started.process.status,
    started.stdout.done,
    started.stderr.done,
  ]).then(([status]) => status);
  const status = await Promise.race([finished, timeout]);
  clearTimeout(timer);
  if (status !== "timeout") return status;
  await kill(started);
  throw failure(
    started,
    `still running (or something it started holds its output) after ${
      ms / 1000
    } s`,
  );
}

/** Ends a process group at once and collects its output. */
async function kill(started: Started): Promise<void> {
  try {
    Deno.kill(-started.process.pid, "SIGKILL");
  } catch {
    // Already exited.
  }
  await started.process.status;
  await Promise.all([started.stdout.done, started.stderr.done]);
}

function check(
  started: Started,
  expected: string[],
  ...streams: string[][]
): void {
  const missing = missingOutput(expected, ...streams);
  if (missing !== undefined) {
    throw failure(started, `did not print "${missing}"`);
  }
  const forbidden = [...started.stdout.lines, ...started.stderr.lines].find(
    (line) => FORBIDDEN_OUTPUT.test(line),
  );
  if (forbidden !== undefined) {
    throw failure(started, `printed "${forbidden}"`);
  }
}

function failure(started: Started, what: string): Error {
  const output = [
    ...started.stdout.lines.map((line) => `  stdout| ${line}`),
    ...started.stderr.lines.map((line) => `  stderr| ${line}`),
  ].slice(-40);
  return new Error(`\`${started.command}\` ${what}\n${output.join("\n")}`);
}
