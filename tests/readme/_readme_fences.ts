/**
 * Reads the README's command fences: which to run, which to skip and why,
 * the commands in them, and the output the README shows for them.
 *
 * The contract, written in the fences' info strings:
 * - `sh run`: every command in it is run, in order, by the README test.
 * - `sh skip=REASON`: not run; the test reports it skipped with the reason
 *   (one of {@linkcode SKIP_REASONS}).
 * - A shell or PowerShell fence with neither mark fails the test, so no new
 *   example escapes it.
 * - `# → TEXT` after a command (or on the comment lines right below it) is
 *   what the command prints; a `text output` fence right after a `sh run`
 *   fence is what the fence's last command prints. `…` stands for anything,
 *   and any number matches any number (ports, times, figures).
 *
 * @module
 */

/** Why a fence is not run, by the key its `skip=` mark names. */
export const SKIP_REASONS: Readonly<Record<string, string>> = {
  internet: "needs the internet (downloads)",
  docker: "needs a Docker engine",
  cluster: "needs a Kubernetes cluster",
  synopsis: "a usage synopsis, not a command",
  suite: "runs this test suite itself",
};

/** Languages whose fences hold commands and must be marked. */
const COMMAND_LANGUAGES = new Set(["sh", "bash", "shell", "powershell"]);

/** One command of a fence, with the output the README shows for it. */
export interface ReadmeCommand {
  /** The command as written, continuation lines joined. */
  text: string;
  /** Lines the command must print, in order (`# →` comments). */
  expected: string[];
  /** 1-based line in the README. */
  line: number;
}

/** A fence with commands, and what to do with it. */
export interface ReadmeFence {
  /** The nearest heading above the fence. */
  section: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** `run`, or why not. */
  action: { run: true } | { run: false; reason: string };
  commands: ReadmeCommand[];
}

const FENCE = /^```(.*)$/;
const EXPECTATION = /^#\s*→\s?(.*)$/;
const TRAILING_EXPECTATION = /\s#\s*→\s?(.*)$/;

/**
 * Parses `markdown` into its command fences.
 *
 * @throws {SyntaxError} For an unmarked command fence, an unknown mark or
 *   skip reason, or a `text output` fence not right after a `sh run` one.
 */
export function readmeFences(markdown: string): ReadmeFence[] {
  const lines = markdown.split("\n");
  const fences: ReadmeFence[] = [];
  let section = "";
  let previousEnd = -1;
  for (let at = 0; at < lines.length; at++) {
    const line = lines[at] as string;
    if (line.startsWith("#")) section = line.replace(/^#+\s*/, "");
    const open = FENCE.exec(line);
    if (open === null) continue;
    const end = lines.findIndex((text, i) => i > at && text === "```");
    if (end === -1) {
      throw new SyntaxError(`README.md:${at + 1}: unclosed fence`);
    }
    const [language = "", ...marks] = (open[1] as string).trim().split(/\s+/);
    const body = lines.slice(at + 1, end);
    if (language === "text" && marks.includes("output")) {
      const last = fences.at(-1);
      if (last === undefined || previousEnd !== at - 2 || !last.action.run) {
        throw new SyntaxError(
          `README.md:${
            at + 1
          }: a "text output" fence must follow a "sh run" fence after one blank line`,
        );
      }
      last.commands.at(-1)?.expected.push(...body.filter((l) => l !== ""));
    } else if (COMMAND_LANGUAGES.has(language)) {
      fences.push({
        section,
        line: at + 1,
        action: fenceAction(marks, at + 1),
        commands: fenceCommands(body, at + 2),
      });
      previousEnd = end;
    }
    at = end;
  }
  return fences;
}

function fenceAction(marks: string[], line: number): ReadmeFence["action"] {
  const [mark] = marks;
  if (marks.length === 1 && mark === "run") return { run: true };
  const skip = marks.length === 1 ? /^skip=(\w+)$/.exec(mark ?? "") : null;
  const reason = SKIP_REASONS[skip?.[1] ?? ""];
  if (reason === undefined) {
    throw new SyntaxError(
      `README.md:${line}: mark the fence "run" or "skip=${
        Object.keys(SKIP_REASONS).join("|")
      }" (found "${marks.join(" ")}")`,
    );
  }
  return { run: false, reason };
}

/** Splits a fence body into commands; `firstLine` is the body's 1-based line. */
function fenceCommands(body: string[], firstLine: number): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  let pending: ReadmeCommand | undefined;
  for (const [i, raw] of body.entries()) {
    const line = raw.trim();
    const expectation = EXPECTATION.exec(line);
    if (expectation !== null) {
      commands.at(-1)?.expected.push(expectation[1] as string);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const trailing = TRAILING_EXPECTATION.exec(line);
    const code = trailing === null ? line : line.slice(0, trailing.index);
    if (pending === undefined) {
      pending = { text: "", expected: [], line: firstLine + i };
    }
    pending.text += code.replace(/\\$/, "").trim() + " ";
    if (trailing !== null) pending.expected.push(trailing[1] as string);
    if (!code.endsWith("\\")) {
      pending.text = pending.text.trim();
      commands.push(pending);
      pending = undefined;
    }
  }
  return commands;
}

/**
 * Whether the output shows every `expected` line, in order within each
 * stream (stdout and stderr interleave unpredictably). `…` in an expected
 * line matches anything, every number matches any number, and runs of
 * whitespace count as one space (tables align by their longest label).
 *
 * @param expected The lines the README shows.
 * @param streams The output lines of each stream (stdout, stderr).
 * @returns The first expected line not found, or `undefined` if all were.
 */
export function missingOutput(
  expected: string[],
  ...streams: string[][]
): string | undefined {
  const cursors = streams.map(() => 0);
  for (const line of expected) {
    const pattern = outputPattern(line);
    const stream = streams.findIndex((lines, s) => {
      const found = lines.findIndex((text, i) =>
        i >= (cursors[s] ?? 0) && pattern.test(squeeze(text))
      );
      if (found !== -1) cursors[s] = found + 1;
      return found !== -1;
    });
    if (stream === -1) return line;
  }
  return undefined;
}

function squeeze(text: string): string {
  return text.trim().replace(/\s+/g, " ");
}

/**
 * A figure: a number, with a time unit if it has one, since the same time
 * prints as `414 µs` on one run and `2.80 ms` on the next.
 */
const NUMBER = /\d+(?:[.,]\d+)*(?: (?:µs|ms|s)\b)?/g;

function outputPattern(expected: string): RegExp {
  const parts = squeeze(expected).split("…").map((part) =>
    part.split(NUMBER).map(escapeRegExp).join(NUMBER.source)
  );
  return new RegExp(`^${parts.join(".*")}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
