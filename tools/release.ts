/**
 * `deno task release VERSION`: compiles both programs for every target
 * `deno compile` supports, puts each target's pair with the README and the
 * licence into one archive (`.tar.gz`, `.zip` for Windows), and writes
 * `SHA256SUMS`, all in `release/`. The release workflow uploads that
 * folder; users verify their download with `sha256sum --check`.
 *
 * @module
 */

import { compile, outputPath, PROGRAMS, TARGETS } from "./compile.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const OUT = `${ROOT}release`;

/**
 * The archive name for `target`: `echo-VERSION-TARGET.tar.gz`, or `.zip`
 * for Windows.
 *
 * @param version The release version, e.g. `v0.2.0`.
 * @param target A `deno compile --target` triple.
 * @returns The file name.
 */
export function archiveName(version: string, target: string): string {
  return `echo-${version}-${target}${
    target.includes("windows") ? ".zip" : ".tar.gz"
  }`;
}

/**
 * `SHA256SUMS` for `files`, in the format `sha256sum --check` reads.
 *
 * @param files File names and contents.
 * @returns The file's text.
 */
export async function sha256sums(
  files: { name: string; bytes: Uint8Array<ArrayBuffer> }[],
): Promise<string> {
  let text = "";
  for (const { name, bytes } of files) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0"))
      .join("");
    text += `${hex}  ${name}\n`;
  }
  return text;
}

async function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<void> {
  const { success, stderr } = await new Deno.Command(command, { args, cwd })
    .output();
  if (!success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(stderr)}`);
  }
}

async function main(args: string[]): Promise<number> {
  const version = args[0];
  if (version === undefined || !/^v\d+\.\d+\.\d+/.test(version)) {
    throw new TypeError("Usage: deno task release vX.Y.Z");
  }
  if (await compile([...TARGETS]) !== 0) return 1;
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  await Deno.mkdir(OUT);
  const archives: { name: string; bytes: Uint8Array<ArrayBuffer> }[] = [];
  for (const target of TARGETS) {
    const folder = `echo-${version}-${target}`;
    const staging = `${OUT}/${folder}`;
    await Deno.mkdir(staging);
    for (const program of Object.keys(PROGRAMS) as (keyof typeof PROGRAMS)[]) {
      const built = outputPath(program, target);
      const exe = target.includes("windows") ? ".exe" : "";
      await Deno.copyFile(built, `${staging}/${program}${exe}`);
    }
    await Deno.copyFile(`${ROOT}README.md`, `${staging}/README.md`);
    await Deno.copyFile(`${ROOT}LICENSE`, `${staging}/LICENSE`);
    const name = archiveName(version, target);
    if (name.endsWith(".zip")) await run("zip", ["-qr", name, folder], OUT);
    else await run("tar", ["-czf", name, folder], OUT);
    await Deno.remove(staging, { recursive: true });
    archives.push({ name, bytes: await Deno.readFile(`${OUT}/${name}`) });
  }
  await Deno.writeTextFile(`${OUT}/SHA256SUMS`, await sha256sums(archives));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
