/**
 * Fair scheduling of socket work, which Deno 2.9 does not give by default.
 *
 * Since Deno 2.3.7 (tokio 1.44+), a runtime with many ready sockets serves
 * some of them up to a second late: deno_core polls every pending op from
 * one task, each ready socket spends one unit of tokio's cooperative
 * budget (128 per poll), and once it is spent the remaining ready ops are
 * deferred, turn after turn. Capping the I/O events a runtime takes from
 * the OS per turn at 128 (`DENO_TOKIO_MAX_IO_EVENTS_PER_TICK`, read when a
 * runtime builds its I/O driver) keeps every turn within the budget. The
 * main runtime is built before any of our code runs, so the setting only
 * reaches runtimes started afterwards: Workers. Servers, the load
 * generator and ping therefore do their socket work in a Worker.
 *
 * @module
 */

/** The environment variable the runtime reads when it starts. */
export const FAIRNESS_VARIABLE = "DENO_TOKIO_MAX_IO_EVENTS_PER_TICK";

/** Our value: the most events per turn that fit tokio's budget of 128. */
export const FAIR_MAX_IO_EVENTS_PER_TICK = "128";

/**
 * Whether Workers started from now on schedule fairly:
 * - `ours`: we set the variable;
 * - `user`: the user set it (their value wins);
 * - `no-permission`: no env access to set it (`deno run` without
 *   `--allow-env=DENO_TOKIO_MAX_IO_EVENTS_PER_TICK`).
 */
export type Fairness = "ours" | "user" | "no-permission";

/**
 * Sets the variable for Workers started from now on, unless the user set
 * it. Never prompts for permission: without env access it changes nothing.
 *
 * @returns Whether the setting is in force for new Workers, and whose.
 *
 * @example
 * ```ts
 * import { prepareFairWorkers } from "./fair_scheduling.ts";
 * prepareFairWorkers(); // then: new Worker(...)
 * ```
 */
export function prepareFairWorkers(): Fairness {
  const access = Deno.permissions.querySync({
    name: "env",
    variable: FAIRNESS_VARIABLE,
  });
  if (access.state !== "granted") return "no-permission";
  if (Deno.env.get(FAIRNESS_VARIABLE) !== undefined) return "user";
  Deno.env.set(FAIRNESS_VARIABLE, FAIR_MAX_IO_EVENTS_PER_TICK);
  return "ours";
}

/**
 * Whether a Worker can load modules from `root` without a permission
 * prompt: under `deno run` it needs read permission for the files it
 * imports (a compiled binary has them embedded, and read permission).
 *
 * @param root The folder holding the worker module and all it imports.
 * @returns True if `new Worker(...)` on a module there will load.
 */
export function canStartWorker(root: URL): boolean {
  if (root.protocol !== "file:") return true;
  return Deno.permissions.querySync({ name: "read", path: root }).state ===
    "granted";
}

/**
 * The setting this thread's runtime was started with, as far as the
 * environment tells (without prompting for permission).
 *
 * @returns The variable's value, or undefined if unset or not readable.
 */
export function fairnessSetting(): string | undefined {
  const access = Deno.permissions.querySync({
    name: "env",
    variable: FAIRNESS_VARIABLE,
  });
  return access.state === "granted"
    ? Deno.env.get(FAIRNESS_VARIABLE)
    : undefined;
}
