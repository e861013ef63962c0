// POST /v1/captures on a live havipd: a HAVIP capture taken during a failover holds the new holder's
// gratuitous ARP; access follows the API's rules (own resources, NotFound for others', internet: operator);
// the same through a fabric agent (its `capture` op).
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { describe, it } from "node:test";
import { checkFrame, ip, mac } from "@havip/testkit";
import { readPcap } from "@havip/wire";
import { OPERATOR_TOKEN, until, world, type Call, type Mode, type Reply, type World } from "../test-support.ts";
import { PCAP_MEDIA_TYPE } from "./capture.ts";

/** Starts a capture and keeps `poke` going until it answers (the tap is installed after auth and lookups). */
async function captureWhile(call: Call, body: unknown, poke: () => void): Promise<Reply> {
  let answered = false;
  const reply = call("POST", "/v1/captures", body).finally(() => {
    answered = true;
  });
  await until(
    "the capture's answer",
    () => {
      if (!answered) poke();
      return Promise.resolve(answered ? true : undefined);
    },
    15_000,
  );
  return reply;
}

function records(r: Reply) {
  assert.equal(r.status, 200, r.text());
  assert.equal(r.headers.get("content-type"), PCAP_MEDIA_TYPE);
  const pcap = readPcap(r.body);
  assert.equal(r.headers.get("x-capture-frames"), String(pcap.records.length));
  return pcap.records;
}

async function failoverCapture(w: World, call: Call): Promise<void> {
  w.garp(w.a);
  await until("vm-A holds", async () => {
    const h = (await w.api("GET", `/v1/havips/${w.havip.id}`)).json<{ holder: { vnicId: string } | null }>();
    return h.holder?.vnicId === w.a.primaryVnicId ? true : undefined;
  });
  // vm-B takes over while the capture runs: its GARP (rx on its port) and the floods of it to vm-A and vm-C.
  const r = await captureWhile(call, { target: w.havip.id, count: 3, timeoutMs: 10_000 }, () => {
    w.garp(w.b);
  });
  const recs = records(r);
  assert.equal(recs.length, 3);
  const bMac = mac(w.b.vnics[0]!.macAddress);
  const vip = ip(w.havip.ipAddress);
  const fromB = recs.map((rec) => checkFrame(rec.data)).find((f) => f.arp?.senderMac === bMac);
  const arp = fromB?.arp;
  assert.ok(arp !== undefined, "the new holder's announcement is in the capture");
  assert.equal(arp.senderIp, vip);
  assert.equal(arp.targetIp, vip);
  // Timestamps are wall-clock microseconds.
  const ts = Number(recs[0]!.tsMicros / 1000n);
  assert.ok(Math.abs(ts - Date.now()) < 60_000, `timestamp ${ts}`);
}

async function scenario(mode: Mode): Promise<void> {
  const w = await world(mode);
  try {
    await failoverCapture(w, w.api);
    // A vNIC's port, both directions, by the operator; nothing comes by: an empty pcap at the timeout.
    const quiet = await w.op("POST", "/v1/captures", { target: w.c.primaryVnicId, timeoutMs: 100 });
    assert.equal(records(quiet).length, 0);
    const onC = await captureWhile(w.op, { target: w.c.primaryVnicId, count: 1, timeoutMs: 10_000 }, () => {
      w.garp(w.c);
    });
    assert.equal(checkFrame(records(onC)[0]!.data).arp?.senderMac, mac(w.c.vnics[0]!.macAddress));
  } finally {
    await w.close();
  }
}

/** A client that hangs up ends its capture long before its timeout, in havipd and in the agent. */
async function clientGoesAway(mode: Mode): Promise<void> {
  const logs: string[] = [];
  const w = await world(mode, logs);
  try {
    // A raw HTTP request whose socket is destroyed: the client is gone for good.
    const url = new URL("/v1/captures", w.daemon.url);
    const req = httpRequest(url, {
      method: "POST",
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" },
    });
    req.on("error", () => undefined);
    req.end(JSON.stringify({ target: w.havip.id, count: 1000, timeoutMs: 120_000 }));
    const said = (msg: string) => logs.some((l) => (JSON.parse(l) as { msg?: string }).msg === msg);
    await until("the capture to start", () => Promise.resolve(said("capture started") ? true : undefined));
    await new Promise((r) => setTimeout(r, 300)); // the agent installs its tap when the capture op reaches it
    w.garp(w.a); // three frames recorded: vm-A's announcement, and its floods to vm-B and vm-C
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    await until("the capture to end", () =>
      Promise.resolve(said("capture cancelled: the client went away") ? true : undefined),
    );
    const cancelled = logs
      .map((l) => JSON.parse(l) as { msg?: string; frames?: number })
      .find((l) => l.msg === "capture cancelled: the client went away");
    // vm-A's announcement and its floods, and any verification probes (who has the HAVIP?) meanwhile.
    assert.ok((cancelled?.frames ?? 0) >= 3, `${String(cancelled?.frames)} frames recorded`);
    assert.ok(!said("capture ended"));
  } finally {
    await w.close();
  }
}

describe("POST /v1/captures", () => {
  it("in-process fabric: a HAVIP capture during a failover holds the new holder's GARP", () => scenario("in-process"));
  it("fabric agent: the same, through the agent's capture op", () => scenario("agent"));
  it("in-process fabric: a client that hangs up ends its capture", () => clientGoesAway("in-process"));
  it("fabric agent: a client that hangs up ends the agent's capture (cancel-capture)", () => clientGoesAway("agent"));

  it("answers only what the caller may see, and refuses bad requests", async () => {
    const w = await world("in-process");
    try {
      const code = async (call: Call, body: unknown) => {
        const r = await call("POST", "/v1/captures", body);
        return [r.status, r.json<{ error: { code: string } }>().error.code];
      };
      // Another project sees neither the HAVIP nor the vNIC; the internet port is the operator's.
      assert.deepEqual(await code(w.stranger, { target: w.havip.id }), [404, "NotFound"]);
      assert.deepEqual(await code(w.stranger, { target: w.a.primaryVnicId }), [404, "NotFound"]);
      assert.deepEqual(await code(w.api, { target: "internet" }), [403, "Forbidden"]);
      // The operator, with no internet edge set: nothing to capture.
      assert.deepEqual(await code(w.op, { target: "internet" }), [404, "NotFound"]);
      assert.deepEqual(await code(w.op, { target: "havip-00000000000000000" }), [404, "NotFound"]);
      assert.deepEqual(await code(w.op, { target: "i-00000000000000000" }), [400, "InvalidId"]);
      assert.deepEqual(await code(w.op, { target: w.havip.id, count: 0 }), [400, "InvalidParameter"]);
      assert.deepEqual(await code(w.op, { target: w.havip.id, count: 100_001 }), [400, "InvalidParameter"]);
      assert.deepEqual(await code(w.op, { target: w.havip.id, timeoutMs: 300_001 }), [400, "InvalidParameter"]);
      assert.deepEqual(await code(w.op, { target: w.havip.id, extra: 1 }), [400, "InvalidParameter"]);
      assert.deepEqual(await code(w.op, {}), [400, "InvalidParameter"]);
      const anonymous = await (await import("../test-support.ts")).client(w.daemon.url, null)("POST", "/v1/captures", {
        target: w.havip.id,
      });
      assert.equal(anonymous.status, 401);
    } finally {
      await w.close();
    }
  });
});
