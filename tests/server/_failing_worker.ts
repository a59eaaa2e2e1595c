/**
 * A Worker that starts like a serving one, then dies of an uncaught error:
 * what a bug in a serving thread looks like to the pool.
 */

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<{ type: string }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (event) => {
  if (event.data.type !== "start") return;
  scope.postMessage({
    type: "listening",
    addresses: {},
    maxIoEventsPerTick: undefined,
  });
  setTimeout(() => {
    throw new Error("Serving thread failed");
  }, 0);
};
