import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { handleShutdownSignals, type ShutdownSignal } from "./shutdown.ts";

function setup() {
  const source = new EventEmitter();
  let clock = 0;
  const calls: string[] = [];
  const remove = handleShutdownSignals(
    { graceful: (s) => calls.push(`graceful ${s}`), immediate: (s) => calls.push(`immediate ${s}`) },
    source,
    () => clock,
    300,
  );
  const send = (signal: ShutdownSignal, at: number): void => {
    clock = at;
    source.emit(signal);
  };
  return { source, calls, send, remove };
}

test("the first signal stops gracefully, a later second one exits at once", () => {
  const { calls, send } = setup();
  send("SIGTERM", 0);
  send("SIGINT", 1000);
  assert.deepEqual(calls, ["graceful SIGTERM", "immediate SIGINT"]);
});

test("a repeat within the window (terminal + npm forwarding the same Ctrl-C) is the same request", () => {
  const { calls, send } = setup();
  send("SIGINT", 0);
  send("SIGINT", 5);
  assert.deepEqual(calls, ["graceful SIGINT"]);
  send("SIGINT", 301);
  assert.deepEqual(calls, ["graceful SIGINT", "immediate SIGINT"]);
});

test("removing the handlers detaches them", () => {
  const { source, remove } = setup();
  assert.equal(source.listenerCount("SIGINT"), 1);
  remove();
  assert.equal(source.listenerCount("SIGINT"), 0);
  assert.equal(source.listenerCount("SIGTERM"), 0);
});
