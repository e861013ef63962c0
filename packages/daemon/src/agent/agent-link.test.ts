// A call that the connection to the agent drops under (the agent restarted while it was under way) fails like
// a call made while the agent is away: 503 FabricUnavailable, which the spec sync leaves to the restore. An agent
// that stops answering (the heartbeat) is treated the same way.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { AgentLink } from "./agent-link.ts";
import { AGENT_PROTOCOL_VERSION, LineReader, encode, type AgentRequest } from "./protocol.ts";
import { AgentConnectionLost, RemoteFabric } from "./remote-fabric.ts";

/**
 * An agent that says hello and then takes requests without answering them; it answers pings while `pong` (a
 * stopped agent answers none). `drop()` cuts its connections.
 */
class SilentAgent {
  readonly socketPath: string;
  pong = true;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  readonly requests: AgentRequest["op"][] = [];
  private waiting: (() => void)[] = [];

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.setEncoding("utf8");
      const reader = new LineReader(
        (value) => {
          const request = value as AgentRequest;
          if (request.op === "hello") {
            const hello = { version: AGENT_PROTOCOL_VERSION, vxlan: null, veth: false };
            socket.write(encode({ id: request.id, ok: true, result: hello }));
            return;
          }
          if (request.op === "ping") {
            if (this.pong) socket.write(encode({ id: request.id, ok: true, result: {} }));
            return;
          }
          this.requests.push(request.op);
          for (const w of this.waiting) w();
          this.waiting = [];
        },
        () => undefined,
      );
      socket.on("data", (chunk: string) => {
        reader.push(chunk);
      });
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  /** Resolves once a request other than hello has arrived (it stays unanswered). */
  async received(): Promise<void> {
    if (this.requests.length > 0) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Closes every connection, as an agent that stops or crashes does. */
  drop(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.drop();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}

describe("a call the connection to the agent drops under", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "havip-agent-link-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("RemoteFabric rejects it with AgentConnectionLost, as it does a request after the close", async () => {
    const agent = new SilentAgent(join(dir, "remote.sock"));
    await agent.listen();
    const remote = await RemoteFabric.connect(agent.socketPath);
    try {
      const call = remote.applyChanges([]);
      await agent.received();
      const closed = new Promise<void>((resolve) => {
        remote.onClose(resolve);
      });
      agent.drop();
      await assert.rejects(call, AgentConnectionLost);
      await closed;
      await assert.rejects(remote.counters(), AgentConnectionLost);
    } finally {
      remote.close();
      await agent.close();
    }
  });

  it("AgentLink turns it into AgentUnavailable (FabricUnavailable) and reconnects", async () => {
    const agent = new SilentAgent(join(dir, "link.sock"));
    await agent.listen();
    const logs: { msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line) as never) });
    const link = await AgentLink.connect(agent.socketPath, logger, { retryMs: 10 });
    const restored = new Promise<void>((resolve) => {
      link.onRestore(() => {
        resolve();
        return Promise.resolve();
      });
    });
    try {
      const call = link.applyChanges([]);
      await agent.received();
      agent.drop();
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal((e as { code?: string }).code, "FabricUnavailable");
        assert.match(e.message, /before it answered; havipd is reconnecting/);
        return true;
      });
      await restored; // the agent is still listening: the link comes back on its own
      assert.ok(logs.some((l) => l.msg === "the connection to the fabric agent was lost; reconnecting"));
    } finally {
      link.close();
      await agent.close();
    }
  });

  it("AgentLink drops a connection whose agent stops answering pings, fails its calls fast, and reconnects", async () => {
    const agent = new SilentAgent(join(dir, "hung.sock"));
    await agent.listen();
    const logs: { msg: string; silentMs?: number }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line) as never) });
    const link = await AgentLink.connect(agent.socketPath, logger, {
      retryMs: 10,
      pingIntervalMs: 20,
      pingTimeoutMs: 150,
    });
    let restores = 0;
    let restored: () => void = () => undefined;
    const firstRestore = new Promise<void>((resolve) => (restored = resolve));
    link.onRestore(() => {
      restores++;
      restored();
      return Promise.resolve();
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(restores, 0, "an agent that answers its pings is left alone");
      agent.pong = false; // stopped: the connection stays open, nothing is answered
      const call = link.applyChanges([]);
      const stoppedAt = performance.now();
      await assert.rejects(call, (e: unknown) => (e as { code?: string }).code === "FabricUnavailable");
      const waited = performance.now() - stoppedAt;
      assert.ok(waited < 2000, `the call failed ${waited.toFixed(0)} ms after the agent stopped answering`);
      assert.ok(logs.some((l) => l.msg === "the fabric agent stopped answering (heartbeat); dropping the connection"));
      const dropped = logs.find((l) => l.silentMs !== undefined);
      assert.ok((dropped?.silentMs ?? 0) >= 150, JSON.stringify(dropped));
      agent.pong = true; // it comes back (SIGCONT): hello on a new connection, then the restore
      await firstRestore;
      assert.equal(restores, 1);
    } finally {
      link.close();
      await agent.close();
    }
  });
});
