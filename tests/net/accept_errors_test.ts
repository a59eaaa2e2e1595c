import assert from "node:assert/strict";
import { classifyAcceptError } from "../../lib/net/mod.ts";

function withCode(code: string): Error {
  return Object.assign(new Error(code), { code });
}

Deno.test("accept errors about one dead pending connection are told from resource exhaustion", () => {
  for (
    const error of [
      new Deno.errors.NotConnected("Transport endpoint is not connected"),
      new Deno.errors.ConnectionReset("reset"),
      new Deno.errors.ConnectionAborted("aborted"),
      withCode("ECONNABORTED"),
      withCode("EPROTO"),
      withCode("EHOSTUNREACH"),
    ]
  ) {
    assert.equal(classifyAcceptError(error), "connection", error.message);
  }
  for (const code of ["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]) {
    assert.equal(classifyAcceptError(withCode(code)), "exhausted", code);
  }
  assert.equal(classifyAcceptError(new Error("something new")), "other");
  assert.equal(classifyAcceptError("not an error"), "other");
});
