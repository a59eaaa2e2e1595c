/**
 * The command line of both programs: flag parsing shared by every
 * command, each command's flags and help text, exit codes, failure
 * reporting, progress lines and the version. It turns flags into the
 * options objects the features define; no feature imports it.
 *
 * @module
 */

export * from "./flags.ts";
export * from "./flag_values.ts";
export * from "./server_flags.ts";
export * from "./client_flags.ts";
export * from "./bench_flags.ts";
export * from "./ping_flags.ts";
export * from "./doctor_flags.ts";
export * from "./exit_codes.ts";
export * from "./failure.ts";
export * from "./progress_line.ts";
export * from "./pem_file.ts";
export * from "./version.ts";
export * from "./command.ts";
export * from "./shutdown.ts";
export * from "./server_options.ts";
export * from "./host_facts.ts";
export * from "./client_options.ts";
export * from "./client_tls_flags.ts";
export * from "./ping_task.ts";
export * from "./bench_task.ts";
export * from "./doctor_command.ts";
export * from "./client_subcommands.ts";
export * from "./health_command.ts";
export * from "./merge_command.ts";
export * from "./fair_task.ts";
export * from "./drop_file_access.ts";
export * from "./usage_error.ts";
