/**
 * The body of a serving Worker: start an {@linkcode EchoService} with the
 * settings it is sent, report where it listens, stop and report the totals
 * when told. Started by {@linkcode startEchoWorkers}; not meant to be
 * imported.
 *
 * @module
 */

import { errorToMessage } from "../thread/mod.ts";
import { type EchoService, startEchoService } from "./echo_service.ts";
import type { WorkerCommand, WorkerReport } from "./_worker_messages.ts";

// This module runs as a Worker: `self` is its scope, not a Window.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerCommand>) => void) | null;
  postMessage(message: WorkerReport): void;
  close(): void;
};

let service: EchoService | undefined;

scope.onmessage = async (event) => {
  const command = event.data;
  try {
    if (command.type === "start") {
      service = await startEchoService(command.settings);
      scope.postMessage({
        type: "listening",
        addresses: service.addresses,
        maxIoEventsPerTick: service.maxIoEventsPerTick,
      });
      return;
    }
    service?.stopAccepting();
    scope.postMessage({ type: "draining" });
    const totals = await service?.stop() ?? { logLinesDropped: 0 };
    scope.postMessage({ type: "stopped", totals });
  } catch (error) {
    scope.postMessage({ type: "failed", error: errorToMessage(error) });
  }
  scope.close();
};
