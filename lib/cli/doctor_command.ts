/**
 * `echo-client doctor`'s work: the checks from its parsed flags, a line
 * per check as it ends (or JSON at the end), and the exit code.
 *
 * @module
 */

import {
  doctorToJson,
  formatCheck,
  formatDoctorSummary,
  runDoctor,
} from "../doctor/mod.ts";
import { writeStdout } from "../log/mod.ts";
import { clientTlsOptions } from "./client_tls_flags.ts";
import type { DoctorArgs } from "./doctor_flags.ts";
import { dropFileAccess, fileAccessFor } from "./drop_file_access.ts";
import { ExitCode } from "./exit_codes.ts";

/**
 * Runs the checks and prints what they found.
 *
 * @param args Parsed flags.
 * @returns 0 if every check passed, else 1.
 */
export async function doctorCommand(args: DoctorArgs): Promise<number> {
  const tls = args.tls === undefined
    ? undefined
    : await clientTlsOptions(args.tls);
  // The --ca file is read; a Unix socket is opened by its path each time.
  dropFileAccess({ keep: fileAccessFor(args.endpoint) });
  const report = await runDoctor({
    endpoint: args.endpoint,
    ...(tls !== undefined && { tls }),
    udp: args.udp,
    idleMax: args.idleMax,
    concurrency: args.concurrency,
    timeout: args.timeout,
    ...(!args.json &&
      { onCheck: (check) => writeStdout(formatCheck(check) + "\n") }),
  });
  writeStdout(
    args.json
      ? JSON.stringify(doctorToJson(report)) + "\n"
      : formatDoctorSummary(report),
  );
  return report.ok ? ExitCode.Ok : ExitCode.EchoMismatch;
}
