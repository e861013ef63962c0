// havipd keeps its fabric agent: when the agent restarts (empty), havipd reconnects on its own and puts back
// the whole spec with each HAVIP's last known holder and every attachment; what the API changed meanwhile is
// in it too; announcements through the new agent move holders again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gratuitousArp, udpFrame } from "@havip/testkit";
import { parseExposition, sampleValue, until, world, type World } from "../test-support.ts";

interface Shown {
  holder: { vnicId: string } | null;
  generation: number;
}

const shown = async (w: World, havipId: string) => (await w.api("GET", `/v1/havips/${havipId}`)).json<Shown>();
const fabricUp = async (w: World) =>
  sampleValue(parseExposition((await w.op("GET", "/metrics")).text()), "havip_fabric_up");

describe("fabric agent restart", () => {
  it("havipd reconnects, restores spec, holders and attachments, and follows announcements again", async () => {
    const logs: string[] = [];
    const w = await world("agent", logs);
    try {
      w.garp(w.a);
      await until("vm-A to hold", async () =>
        (await shown(w, w.havip.id)).holder?.vnicId === w.a.primaryVnicId ? true : undefined,
      );

      await w.stopAgent();
      await until("havipd to notice", async () => ((await fabricUp(w)) === 0 ? true : undefined));
      const away = await w.api("GET", `/v1/havips/${w.havip.id}/counters`);
      assert.equal(away.status, 503, away.text());
      assert.equal(away.json<{ error: { code: string } }>().error.code, "FabricUnavailable");
      // The control plane does not need the agent: a HAVIP created meanwhile reaches it after the restore.
      const second = (await w.api("POST", "/v1/havips", { subnetId: w.havip.subnetId, ipAddress: "10.0.1.51" })).json<{
        id: string;
      }>();
      await sleep(300); // a few failed reconnection attempts
      await w.restartAgent();
      await until("havipd to reconnect", async () => ((await fabricUp(w)) === 1 ? true : undefined), 10_000);

      // The new agent was empty; now it knows vm-A holds the first HAVIP (from the store), generation 1.
      const counters = async (id: string) =>
        (await w.api("GET", `/v1/havips/${id}/counters`)).json<{ holderVnicId: string | null; generation: number }>();
      await until("the holder restored in the agent", async () => {
        const c = await counters(w.havip.id);
        return c.holderVnicId === w.a.primaryVnicId && c.generation === 1 ? true : undefined;
      });
      // Traffic to the HAVIP reaches vm-A through the new agent: vm-C's attachment and vm-A's are back.
      const c = w.c.vnics[0]!;
      const received = w.vtep(w.a).received.length;
      await until("vm-C's frame to reach vm-A", async () => {
        w.send(
          w.c,
          udpFrame({
            srcMac: c.macAddress,
            dstMac: "02:00:00:00:00:01",
            src: c.ipAddress,
            dst: "10.0.1.50",
            srcPort: 1,
            dstPort: 2,
          }),
        );
        await sleep(20);
        return w.vtep(w.a).received.length > received ? true : undefined;
      });
      // Announcements through the new agent are recorded: vm-B takes the first HAVIP, vm-A the new one.
      w.garp(w.b);
      w.send(w.a, gratuitousArp({ mac: w.a.vnics[0]!.macAddress, ip: "10.0.1.51" }));
      await until("vm-B to hold, generation 2", async () => {
        const h = await shown(w, w.havip.id);
        return h.holder?.vnicId === w.b.primaryVnicId && h.generation === 2 ? true : undefined;
      });
      await until("vm-A to hold the HAVIP created while the agent was away", async () =>
        (await shown(w, second.id)).holder?.vnicId === w.a.primaryVnicId ? true : undefined,
      );
      const lines = logs.map((l) => JSON.parse(l) as { msg?: string });
      assert.ok(lines.some((l) => l.msg === "the connection to the fabric agent was lost; reconnecting"));
      assert.ok(lines.some((l) => l.msg === "reconnected to the fabric agent; spec and attachments restored"));
      // The HAVIP created meanwhile was put off, not treated as a fabric that went out of step; so was a change
      // under way when the agent stopped.
      assert.ok(lines.some((l) => l.msg === "fabric agent away: change applied on reconnection"));
      const failures = lines.filter((l) => l.msg === "spec change failed" || l.msg === "fabric spec rebuild failed");
      assert.deepEqual(failures, []);
    } finally {
      await w.close();
    }
  });
});
