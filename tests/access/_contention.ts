/**
 * The work two threads do at once on one shared address limit, in the
 * test that counts through a real Worker.
 */

import type { AddressLimit, AddressLimitShared } from "../../lib/access/mod.ts";

/** What each thread is given. */
export interface ContentionTask {
  /** The limit to share. */
  shared: AddressLimitShared;
  /** An address acquired once a round and never released. */
  hot: string;
  /** Addresses acquired and released every round, moving slots about. */
  churn: string[];
  /** How many rounds. */
  rounds: number;
}

/**
 * Runs `task` on `limit`.
 *
 * @returns How many of the hot address's acquisitions succeeded.
 */
export function contend(limit: AddressLimit, task: ContentionTask): number {
  let hot = 0;
  const held: string[] = [];
  for (let round = 0; round < task.rounds; round++) {
    for (const address of task.churn) {
      if (limit.tryAcquire(address)) held.push(address);
    }
    if (limit.tryAcquire(task.hot)) hot++;
    for (const address of held.splice(0)) limit.release(address);
  }
  return hot;
}
