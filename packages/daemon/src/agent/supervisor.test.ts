// The supervisor with an injected clock, wait and spawner: the back-off schedule, what is restarted and what is
// not, what is logged, and that stopping havipd leaves the agent running.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import {
  AgentSupervisor,
  RestartBackoff,
  type AgentDown,
  type SupervisedAgent,
  type SupervisorDeps,
} from "./supervisor.ts";

class FakeAgent implements SupervisedAgent {
  readonly pid: number;
  readonly down: Promise<AgentDown>;
  killed = false;
  released = false;
  private fire: (d: AgentDown) => void = () => undefined;

  constructor(pid: number) {
    this.pid = pid;
    this.down = new Promise((resolve) => (this.fire = resolve));
  }

  goDown(reason: AgentDown["reason"], exitCode: number | null = null, signal: string | null = null): void {
    this.fire({ reason, exitCode, signal });
  }

  kill(): Promise<void> {
    this.killed = true;
    return Promise.resolve();
  }

  release(): void {
    this.released = true;
  }
}

/** A world with a manual clock: sleeping advances it; `start` hands out agents (or fails when told to). */
class World {
  clock = 0;
  nextPid = 100;
  agents: FakeAgent[] = [];
  sleeps: number[] = [];
  failStarts = 0;
  blocked: string | null = null;
  restarts = 0;
  readonly logs: { level: number; msg: string; [k: string]: unknown }[] = [];
  private started: (() => void)[] = [];

  deps(): SupervisorDeps {
    return {
      start: () => {
        if (this.failStarts > 0) {
          this.failStarts--;
          return Promise.reject(new Error("did not print ready"));
        }
        const agent = new FakeAgent(this.nextPid++);
        this.agents.push(agent);
        for (const s of this.started.splice(0)) s();
        return Promise.resolve(agent);
      },
      cannotStart: () => this.blocked,
      logger: pino({ level: "info" }, { write: (line: string) => this.logs.push(JSON.parse(line) as never) }),
      onRestart: () => {
        this.restarts++;
      },
      now: () => this.clock,
      sleep: (ms) => {
        this.sleeps.push(ms);
        this.clock += ms;
        return Promise.resolve();
      },
    };
  }

  first(): FakeAgent {
    const agent = new FakeAgent(this.nextPid++);
    this.agents.push(agent);
    return agent;
  }

  /** Resolves once the supervisor has started `n` agents in all (the first included). */
  async agentsStarted(n: number): Promise<FakeAgent> {
    while (this.agents.length < n) await new Promise<void>((resolve) => this.started.push(resolve));
    return this.agents[n - 1]!;
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("RestartBackoff", () => {
  it("waits 0.2 s, doubling up to 10 s, and starts again after an agent ran 30 s", () => {
    const b = new RestartBackoff();
    const delays = Array.from({ length: 9 }, () => b.next(0).delayMs);
    assert.deepEqual(delays, [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
    assert.deepEqual(b.next(29_999), { delayMs: 10_000, attempt: 10 });
    assert.deepEqual(b.next(30_000), { delayMs: 200, attempt: 1 });
    assert.deepEqual(b.next(5), { delayMs: 400, attempt: 2 });
  });
});

describe("AgentSupervisor", () => {
  it("restarts an agent that exits or hangs, with the back-off, and logs each restart", async () => {
    const world = new World();
    const first = world.first();
    const supervisor = new AgentSupervisor(first, world.deps());
    first.goDown("exited", null, null);
    const second = await world.agentsStarted(2);
    await world.settle();
    assert.ok(first.killed && first.released);
    assert.equal(supervisor.pid, second.pid);
    world.clock += 1000; // it ran 1 s: the schedule goes on
    second.goDown("hung", null, "SIGKILL");
    const third = await world.agentsStarted(3);
    await world.settle();
    world.clock += 40_000; // it ran 40 s: the schedule starts again
    third.goDown("exited", 1, null);
    await world.agentsStarted(4);
    await world.settle();
    assert.deepEqual(world.sleeps, [200, 400, 200]);
    assert.equal(world.restarts, 3);
    const restarted = world.logs.filter((l) => l.msg === "fabric agent restarted");
    assert.equal(restarted.length, 3);
    assert.ok(
      restarted.every((l) => l.level === 40),
      "at warn",
    );
    assert.deepEqual(
      restarted.map((l) => [l.reason, l.exitCode, l.signal, l.attempt, l.backoffMs, l.previousPid, l.pid]),
      [
        ["exited", null, null, 1, 200, 100, 101],
        ["hung", null, "SIGKILL", 2, 400, 101, 102],
        ["exited", 1, null, 1, 200, 102, 103],
      ],
    );
    await supervisor.stop();
  });

  it("an agent that does not start is tried again, later each time", async () => {
    const world = new World();
    const first = world.first();
    const supervisor = new AgentSupervisor(first, world.deps());
    world.failStarts = 3;
    first.goDown("exited");
    await world.agentsStarted(2);
    await world.settle();
    assert.deepEqual(world.sleeps, [200, 400, 800, 1600]);
    assert.equal(world.logs.filter((l) => l.msg === "the fabric agent did not start; trying again").length, 3);
    assert.equal(world.restarts, 1);
    await supervisor.stop();
  });

  it("an agent stopped on purpose, or whose lab is gone, is not restarted", async () => {
    for (const reason of ["stopped", "gone"] as const) {
      const world = new World();
      const first = world.first();
      const supervisor = new AgentSupervisor(first, world.deps());
      first.goDown(reason, 0, "SIGTERM");
      await world.settle();
      await supervisor.stop();
      assert.equal(world.agents.length, 1);
      assert.equal(world.restarts, 0);
      assert.equal(supervisor.pid, null);
      assert.ok(world.logs.some((l) => l.level === 40 && /not restarted/.test(l.msg)));
    }
    const world = new World();
    const first = world.first();
    const supervisor = new AgentSupervisor(first, world.deps());
    world.blocked = "the lab's fabric namespace is gone";
    first.goDown("exited");
    await world.settle();
    await supervisor.stop();
    assert.equal(world.agents.length, 1, "nothing is started where the lab was");
  });

  it("stop() leaves the agent running: released, never killed", async () => {
    const world = new World();
    const first = world.first();
    const supervisor = new AgentSupervisor(first, world.deps());
    await supervisor.stop();
    assert.ok(first.released);
    assert.ok(!first.killed);
    first.goDown("exited");
    await world.settle();
    assert.equal(world.agents.length, 1, "no restart after stop()");
  });
});
