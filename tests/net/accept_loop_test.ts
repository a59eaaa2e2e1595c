import assert from "node:assert/strict";
import { acceptConnections, type AcceptError } from "../../lib/net/mod.ts";

/** An error like the one Deno throws for a failed `accept()` with `code`. */
function osError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const EMFILE = () => osError("EMFILE", "Too many open files (os error 24)");
const ENOTCONN = () =>
  new Deno.errors.NotConnected("Transport endpoint is not connected");

/**
 * A listener that plays a script: each `accept()` takes the next step, an
 * error to throw or a connection name to return; past the end it waits
 * until closed, then rejects with `BadResource` like `Deno.Listener`.
 */
class ScriptedListener {
  readonly #steps: (string | Error)[];
  #closed = Promise.withResolvers<never>();
  accepts = 0;
  closed = false;

  constructor(steps: (string | Error)[]) {
    this.#steps = steps;
    // Closing rejects it whether or not an accept() is waiting.
    this.#closed.promise.catch(() => {});
  }

  accept(): Promise<string> {
    this.accepts++;
    if (this.closed) {
      return Promise.reject(new Deno.errors.BadResource("closed"));
    }
    const step = this.#steps.shift();
    if (step === undefined) return this.#closed.promise;
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  }

  close(): void {
    if (this.closed) throw new Deno.errors.BadResource("closed twice");
    this.closed = true;
    this.#closed.reject(
      new Deno.errors.BadResource("Listener has been closed"),
    );
  }
}

/** Runs the loop to its end, collecting connections and reported errors. */
async function run(
  listener: ScriptedListener,
  options: Parameters<typeof acceptConnections>[1] = {},
  onConnection: (conn: string) => void = () => {},
): Promise<{ conns: string[]; errors: AcceptError[] }> {
  const conns: string[] = [];
  const errors: AcceptError[] = [];
  for await (
    const conn of acceptConnections(listener, {
      ...options,
      onError: (failure) => {
        errors.push(failure);
        options.onError?.(failure);
      },
    })
  ) {
    conns.push(conn);
    onConnection(conn);
  }
  return { conns, errors };
}

Deno.test("acceptConnections retries a dead pending connection at once and backs off, doubling to the ceiling, when out of descriptors", async () => {
  const listener = new ScriptedListener([
    ENOTCONN(),
    "a",
    EMFILE(),
    EMFILE(),
    EMFILE(),
    EMFILE(),
    "b",
    EMFILE(),
    "c",
  ]);
  const { conns, errors } = await run(
    listener,
    { maxBackoffMs: 12 },
    (conn) => {
      if (conn === "c") listener.close();
    },
  );
  assert.deepEqual(conns, ["a", "b", "c"]);
  assert.deepEqual(
    errors.map(({ kind, retryMs }) => [kind, retryMs]),
    [
      ["connection", undefined],
      ["exhausted", 5],
      ["exhausted", 10],
      ["exhausted", 12],
      ["exhausted", 12],
      // A success resets the back-off.
      ["exhausted", 5],
    ],
  );
  assert.match(String(errors[1]?.error), /Too many open files/);
  // The loop ended on the closed listener, without reporting it.
  assert.equal(listener.accepts, 10);
});

Deno.test("acceptConnections backs off for an error it does not know", async () => {
  const listener = new ScriptedListener([new Error("something new"), "a"]);
  const { conns, errors } = await run(listener, {}, () => listener.close());
  assert.deepEqual(conns, ["a"]);
  assert.deepEqual(errors.map(({ kind, retryMs }) => [kind, retryMs]), [
    ["other", 5],
  ]);
});

Deno.test("acceptConnections ends when the signal aborts: a pending accept, a back-off, or before it starts", async () => {
  {
    // Waiting in accept(): aborting closes the listener.
    const stop = new AbortController();
    const listener = new ScriptedListener(["a"]);
    const { conns } = await run(
      listener,
      { signal: stop.signal },
      () => stop.abort(),
    );
    assert.deepEqual(conns, ["a"]);
    assert.equal(listener.closed, true);
  }
  {
    // Backing off: the pause ends at once and nothing more is accepted.
    const stop = new AbortController();
    const listener = new ScriptedListener([EMFILE(), "never"]);
    const { conns, errors } = await run(listener, {
      signal: stop.signal,
      maxBackoffMs: 60_000,
      minBackoffMs: 60_000,
      onError: () => stop.abort(),
    });
    assert.deepEqual(conns, []);
    assert.equal(errors.length, 1);
    assert.equal(listener.accepts, 1);
  }
  {
    const listener = new ScriptedListener(["never"]);
    const { conns } = await run(listener, { signal: AbortSignal.abort() });
    assert.deepEqual(conns, []);
    assert.equal(listener.accepts, 0);
  }
});

Deno.test("acceptConnections passes on what its error callback throws, and breaking out leaves the listener open", async () => {
  const listener = new ScriptedListener([EMFILE()]);
  await assert.rejects(
    run(listener, {
      onError: () => {
        throw new RangeError("callback failed");
      },
    }),
    RangeError,
  );
  const open = new ScriptedListener(["a", "b"]);
  for await (const _ of acceptConnections(open)) break;
  assert.equal(open.closed, false);
  assert.equal(open.accepts, 1);
});

Deno.test("acceptConnections yields a real listener's connections and ends when it is closed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const clients = await Promise.all(
    Array.from(
      { length: 3 },
      () => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    ),
  );
  let accepted = 0;
  const errors: AcceptError[] = [];
  for await (
    const conn of acceptConnections(listener, {
      onError: (failure) => errors.push(failure),
    })
  ) {
    conn.close();
    if (++accepted === clients.length) listener.close();
  }
  for (const client of clients) client.close();
  assert.equal(accepted, 3);
  assert.deepEqual(errors, []);
});
