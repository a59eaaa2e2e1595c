import assert from "node:assert/strict";
import {
  FaultBoard,
  FaultDice,
  faultsToJson,
  Pacer,
  parseFaults,
  streamFaults,
} from "../../lib/faults/mod.ts";

Deno.test("parseFaults reads every fault in the flags' forms, and faultsToJson writes them back", () => {
  const json = {
    delay: "200ms",
    jitter: "0.05s",
    throttle: "64KiB/s",
    chunk: "100",
    "chunk_delay": "10ms",
    "reset_after": "2s",
    blackhole: false,
    "fault_rate": 0.5,
    "fault_seed": "7",
    "udp_drop": "0.1",
    "udp_duplicate": 0,
  };
  const settings = parseFaults(json);
  assert.deepEqual(settings, {
    delay: 200,
    jitter: 50,
    throttle: 65536,
    chunk: 100,
    chunkDelay: 10,
    resetAfter: { ms: 2000 },
    blackhole: false,
    faultRate: 0.5,
    faultSeed: 7,
    udpDrop: 0.1,
    udpDuplicate: 0,
  });
  assert.deepEqual(parseFaults(faultsToJson(settings)), settings);
  assert.deepEqual(parseFaults({ close_after: "1KiB" }), {
    closeAfter: { bytes: 1024 },
  });
  assert.deepEqual(streamFaults(settings), [
    "delay",
    "jitter",
    "throttle",
    "chunk",
    "chunk_delay",
    "reset_after",
  ]);
});

Deno.test("parseFaults refuses unknown faults and bad values, naming them", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ latency: "1ms" }, /: Unknown fault "latency": expected one of delay, /],
    [{ delay: "5" }, /: Fault "delay": Invalid duration "5"/],
    [{ fault_rate: 1.5 }, /: Fault "fault_rate": Invalid share "1\.5"/],
    [{ chunk: "0" }, /: Fault "chunk": Invalid size 0/],
    [{ blackhole: "yes" }, /: Fault "blackhole": Invalid value "yes"/],
    [{ delay: null }, /: Fault "delay": expected a string or a number/],
    [{ fault_seed: -1 }, /: Fault "fault_seed": Invalid seed "-1"/],
  ];
  for (const [values, message] of cases) {
    assert.throws(() => parseFaults(values), message);
  }
});

Deno.test("FaultBoard: a change is seen by every view, and a view parses only after a change", () => {
  const board = new FaultBoard({ delay: 1 });
  const view = FaultBoard.fromShared(board.toShared());
  const first = view.current();
  assert.equal(view.current(), first, "the same object until a change");
  board.set({ throttle: 10, closeAfter: { bytes: 5 } });
  assert.deepEqual(view.current(), { throttle: 10, closeAfter: { bytes: 5 } });
  assert.throws(
    () => board.set({ delay: 1, ...{ padding: "x".repeat(5000) } }),
    /Faults too large/,
  );
});

Deno.test("FaultDice: the same seed gives the same draws; chance(p) lands near p", () => {
  const a = new FaultDice(3);
  const b = new FaultDice(3);
  const draws = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(draws, Array.from({ length: 5 }, () => b.next()));
  assert.ok(draws.every((x) => x >= 0 && x < 1));
  const dice = new FaultDice(9);
  let hits = 0;
  for (let i = 0; i < 10_000; i++) if (dice.chance(0.3)) hits++;
  assert.ok(hits > 2_700 && hits < 3_300, `${hits}`);
  assert.ok(dice.chance(1) && !dice.chance(0));
});

Deno.test("Pacer: pieces of 1/50 s of the rate; 10 pieces take about 9/50 s", async () => {
  const pacer = new Pacer(50_000);
  assert.equal(pacer.piece, 1_000);
  const started = performance.now();
  for (let i = 0; i < 10; i++) await pacer.take(pacer.piece);
  const ms = performance.now() - started;
  assert.ok(ms >= 170 && ms < 400, `${ms.toFixed(0)} ms`);
});

Deno.test("fault durations are at most a day: longer timers would fire at once", () => {
  assert.throws(() => parseFaults({ close_after: "600h" }), /at most a day/);
  assert.throws(() => parseFaults({ delay: "25h" }), /at most a day/);
  assert.throws(
    () => parseFaults({ delay: `${"9".repeat(400)}ms` }),
    /at most a day/,
  );
  assert.deepEqual(parseFaults({ delay: "24h" }), { delay: 86_400_000 });
  assert.throws(() => parseFaults({ fault_rate: "" }), /Invalid share/);
  assert.throws(() => parseFaults({ fault_seed: "0x10" }), /Invalid seed/);
  assert.throws(() => parseFaults({ constructor: 1 }), /Unknown fault/);
});
