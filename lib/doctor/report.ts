/**
 * What `echo-client doctor` prints: a line per check as it ends, a
 * summary, or JSON.
 *
 * @module
 */

import { formatDuration } from "../log/mod.ts";
import type { CheckResult, DoctorReport } from "./doctor.ts";

/**
 * One check as a line of the table.
 *
 * @param check The check's outcome.
 * @returns e.g. `ok      half-close    after our FIN, all 64.0 KiB came back, … (limit 10.0 s)`.
 *
 * @example
 * ```ts
 * import { formatCheck } from "./report.ts";
 * formatCheck({ name: "connect", ok: true, finding: "connected in 0.40 ms", limitMs: 10_000 });
 * ```
 */
export function formatCheck(check: CheckResult): string {
  return `${check.ok ? "ok    " : "FAILED"}  ${
    check.name.padEnd(18)
  }  ${check.finding} (limit ${formatDuration(check.limitMs)})`;
}

/**
 * The closing line.
 *
 * @param report What the doctor found.
 * @returns One line, with its newline.
 */
export function formatDoctorSummary(report: DoctorReport): string {
  const failed = report.checks.filter((check) => !check.ok).length;
  return failed === 0
    ? `--- ${report.target}: every check passed ---\n`
    : `--- ${report.target}: ${failed} of ${report.checks.length} checks failed ---\n`;
}

/**
 * The report for scripts.
 *
 * @param report What the doctor found.
 * @returns A plain object for `JSON.stringify`.
 */
export function doctorToJson(report: DoctorReport): Record<string, unknown> {
  return {
    target: report.target,
    ok: report.ok,
    checks: report.checks.map((check) => ({
      name: check.name,
      ok: check.ok,
      finding: check.finding,
      limit_ms: check.limitMs,
      ...(check.details !== undefined && { details: check.details }),
    })),
  };
}
