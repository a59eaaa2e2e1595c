/**
 * A Worker for the address limit test: it says it is ready, runs one
 * {@linkcode ContentionTask} on the limit it is posted, reports the hot
 * address's count, and ends.
 */

import { AddressLimit } from "../../lib/access/mod.ts";
import { contend, type ContentionTask } from "./_contention.ts";

// This module runs as a Worker: `self` is its scope, not a Window.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ContentionTask>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (event) => {
  const task = event.data;
  scope.postMessage(contend(AddressLimit.fromShared(task.shared), task));
  scope.close();
};
scope.postMessage("ready");
