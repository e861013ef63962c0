// The heartbeat against a fake agent that answers, then stops answering (as a SIGSTOPped agent does: the
// connection stays open, pings go unanswered).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Heartbeat } from "./heartbeat.ts";

/** Answers pings while `answering`; afterwards they stay pending, as on a stopped agent. */
/** Polls until `done` holds (2 s at most): timing bounds stay generous on a loaded machine. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await sleep(10);
}

class FakeAgent {
  answering = true;
  pings = 0;
  ping = (): Promise<void> => {
    this.pings++;
    return this.answering ? Promise.resolve() : new Promise<void>(() => undefined);
  };
}

describe("Heartbeat", () => {
  it("pings every interval and stays quiet while the agent answers", async () => {
    const agent = new FakeAgent();
    let hung = 0;
    const beat = new Heartbeat(agent.ping, () => hung++, { pingIntervalMs: 20, pingTimeoutMs: 60 });
    beat.start();
    await sleep(200);
    beat.stop();
    assert.equal(hung, 0);
    assert.ok(agent.pings >= 4, `${agent.pings} pings in 200 ms at a 20 ms interval`);
  });

  it("calls the agent hung once, after the timeout without an answer, and stops pinging", async () => {
    const agent = new FakeAgent();
    const hung: { silentMs: number; at: number }[] = [];
    const beat = new Heartbeat(agent.ping, (silentMs) => hung.push({ silentMs, at: performance.now() }), {
      pingIntervalMs: 20,
      pingTimeoutMs: 300,
    });
    beat.start();
    await sleep(60);
    assert.equal(hung.length, 0);
    const stoppedAt = performance.now();
    agent.answering = false;
    await until(() => hung.length > 0);
    await sleep(50);
    assert.equal(hung.length, 1);
    const after = hung[0]!.at - stoppedAt;
    assert.ok(after < 1500, `hung ${after.toFixed(0)} ms after the agent stopped answering`);
    assert.ok(hung[0]!.silentMs >= 300, `silent for ${hung[0]!.silentMs} ms`);
    const pings = agent.pings;
    await sleep(60);
    assert.equal(agent.pings, pings, "no pings after the verdict");
  });

  it("a ping that fails (no connection) is no answer", async () => {
    let hung = 0;
    const beat = new Heartbeat(
      () => Promise.reject(new Error("not connected")),
      () => hung++,
      {
        pingIntervalMs: 10,
        pingTimeoutMs: 50,
      },
    );
    beat.start();
    await until(() => hung > 0);
    await sleep(50);
    assert.equal(hung, 1);
  });

  it("an answer from elsewhere (a new connection's hello) re-arms the timeout; stop() ends it", async () => {
    const agent = new FakeAgent();
    agent.answering = false;
    let hung = 0;
    const beat = new Heartbeat(agent.ping, () => hung++, { pingIntervalMs: 10, pingTimeoutMs: 80 });
    beat.start();
    for (let i = 0; i < 6; i++) {
      await sleep(30);
      beat.answered();
    }
    assert.equal(hung, 0);
    beat.stop();
    await sleep(150);
    assert.equal(hung, 0);
  });

  it("a pause of this process longer than the timeout is not taken for a hung agent", async () => {
    let pings = 0;
    let answeredNow: () => void = () => undefined;
    // Answers take a round trip: they come a few milliseconds after the ping.
    const ping = () =>
      new Promise<void>((resolve) => {
        pings++;
        setTimeout(() => {
          resolve();
          answeredNow();
        }, 5);
      });
    let hung = 0;
    const beat = new Heartbeat(ping, () => hung++, { pingIntervalMs: 20, pingTimeoutMs: 100 });
    beat.start();
    await until(() => pings >= 3);
    // Right after an answer (no ping on its way), this process stalls for three timeouts.
    await new Promise<void>((resolve) => (answeredNow = resolve));
    answeredNow = () => undefined;
    const stallEnds = performance.now() + 300;
    while (performance.now() < stallEnds) {
      // busy: no timer of this process runs
    }
    await sleep(150);
    beat.stop();
    assert.equal(hung, 0, "the agent answered every ping within 5 ms");
    assert.ok(pings >= 5);
  });
});
