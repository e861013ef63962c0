import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PcapWriter, readPcap, type PcapRecord } from "@havip/wire";
import { arpReply, gratuitousArp, udpFrame } from "@havip/testkit";
import {
  analyseFailovers,
  LINKTYPE_LINUX_SLL,
  observations,
  PROBE_PORT,
  probeRoundTrips,
  type FailoverEvent,
} from "./analyse.ts";

const VIP = "10.0.1.50";
const A = { name: "vm-a", mac: "02:00:0a:00:01:0b", ip: "10.0.1.11" };
const B = { name: "vm-b", mac: "02:00:0a:00:01:0c", ip: "10.0.1.12" };
const C = { mac: "02:00:0a:00:01:0d", ip: "10.0.1.13" };
const VIRTUAL = "02:00:00:00:aa:01";
const T0 = 1_700_000_000_000; // wall-clock ms

function payload(seq: number): Uint8Array {
  const p = new Uint8Array(32);
  new DataView(p.buffer).setUint32(0, seq);
  return p;
}

function request(seq: number): Uint8Array {
  const o = { srcMac: C.mac, dstMac: VIRTUAL, src: C.ip, dst: VIP, srcPort: 40000, dstPort: PROBE_PORT };
  return udpFrame({ ...o, payload: payload(seq) });
}

function reply(from: { mac: string }, seq: number): Uint8Array {
  const o = { srcMac: from.mac, dstMac: C.mac, src: VIP, dst: C.ip, srcPort: PROBE_PORT, dstPort: 40000 };
  return udpFrame({ ...o, payload: payload(seq) });
}

/** `frame` (Ethernet) as a cooked capture holds it: packet type (0 to us, 4 outgoing) and the sender's MAC. */
function cooked(frame: Uint8Array, packetType: number): Uint8Array {
  const sll = new Uint8Array(16 + frame.length - 14);
  sll.set([0, packetType, 0, 1, 0, 6], 0); // ARPHRD_ETHER, 6-byte address
  sll.set(frame.subarray(6, 12), 6);
  sll.set(frame.subarray(12, 14), 14);
  sll.set(frame.subarray(14), 16);
  return sll;
}

function macNumber(mac: string): number {
  return Number.parseInt(mac.replaceAll(":", ""), 16);
}

/** A capture written and read back through the pcap codec: frames at T0 + ms. */
function capture(frames: [number, Uint8Array][]): PcapRecord[] {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((b) => chunks.push(b));
  for (const [ms, f] of frames) w.write(BigInt(Math.round((T0 + ms) * 1000)), f);
  return readPcap(Buffer.concat(chunks)).records;
}

const cut: FailoverEvent = {
  kind: "cut",
  triggerAt: T0 + 100,
  oldHolder: A,
  newHolder: B,
  apiWatched: true,
  apiAt: T0 + 420,
};
const preempt: FailoverEvent = {
  kind: "preempt",
  triggerAt: T0 + 1000,
  oldHolder: B,
  newHolder: A,
  apiWatched: true,
  apiAt: null,
};

describe("failover capture analysis", () => {
  it("finds the GARP, the first reply from the new holder and the last from the old, per failover", () => {
    const client = observations(
      capture([
        [90, reply(A, 1)],
        [99, reply(A, 2)],
        [150, request(3)],
        [250, request(4)], // the client stalled 150 ms after this one
        [400, gratuitousArp({ mac: B.mac, ip: VIP })],
        [400.5, request(5)],
        [401.5, reply(B, 5)],
        [402, reply(B, 4)],
        [1100, gratuitousArp({ mac: A.mac, ip: VIP })],
        [1100.5, reply(B, 5)], // in flight at the switch-over
        [1102, reply(A, 6)],
      ]),
      VIP,
    );
    const atB = observations(capture([[399.5, gratuitousArp({ mac: B.mac, ip: VIP })]]), VIP);
    const atA = observations(capture([[1099, gratuitousArp({ mac: A.mac, ip: VIP })]]), VIP);
    const [s1, s2] = analyseFailovers(client, { "vm-a": atA, "vm-b": atB }, [cut, preempt]);
    assert.ok(s1 !== undefined && s2 !== undefined);
    assert.equal(s1.garpAt, T0 + 400);
    assert.equal(s1.garpSenderMac, B.mac);
    assert.equal(s1.outageMs, 401.5 - 99);
    assert.equal(s1.garpToReplyMs, 1.5);
    assert.equal(s1.announceToReplyMs, 2);
    assert.equal(s1.apiMs, 20.5);
    assert.equal(s1.oldRepliesAfterAnnouncement, 0);
    assert.equal(s1.firstReplyRequestAt, T0 + 400.5);
    assert.equal(s1.maxRequestGapMs, 150.5);
    assert.equal(s1.platformDelayMs, 1, "from the request (sent after the announcement) to its reply");
    assert.equal(s2.outageMs, 1102 - 1100.5);
    assert.equal(s2.garpToReplyMs, 2);
    assert.equal(s2.apiMs, null, "the API never showed it");
    assert.equal(s2.oldRepliesAfterAnnouncement, 1);
    assert.equal(s2.lastOldReplyAfterAnnouncementMs, 1.5);
    assert.equal(s2.firstReplyRequestAt, null, "its request is not in the capture");
    assert.equal(s2.platformDelayMs, null);
    assert.equal(s1.holderAnswerMs, null, "vm-b's capture has no probes");
    assert.equal(s1.fabricDelayMs, null);
  });

  it("takes a GARP with the VIP's virtual MAC (havip) and ignores ARP replies and the old holder's GARPs", () => {
    const client = observations(
      capture([
        [99, reply(A, 1)],
        [150, gratuitousArp({ mac: A.mac, ip: VIP })], // the old holder's late burst: not the failover's
        [200, arpReply({ mac: VIRTUAL, ip: VIP, targetMac: C.mac, targetIp: C.ip })], // an answer, not an announcement
        [400, gratuitousArp({ mac: VIRTUAL, ip: VIP })],
        [401, reply(B, 2)],
      ]),
      VIP,
    );
    const s = analyseFailovers(client, {}, [cut])[0]!;
    assert.equal(s.garpAt, T0 + 400);
    assert.equal(s.garpSenderMac, VIRTUAL);
    assert.equal(s.announcedAt, null);
    assert.equal(s.apiMs, null);
  });

  it("a failover with no reply from the new holder yields nulls, not numbers", () => {
    const s = analyseFailovers(observations(capture([[99, reply(A, 1)]]), VIP), {}, [cut])[0]!;
    assert.equal(s.firstReplyAt, null);
    assert.equal(s.outageMs, null);
    assert.equal(s.garpToReplyMs, null);
  });

  it("matches probes and their echoes by sequence for round-trip times", () => {
    const seen = observations(
      capture([
        [0, request(1)],
        [0.5, reply(A, 1)],
        [1, request(2)], // lost
        [2, request(3)],
        [4, reply(B, 3)],
        [5, reply(B, 9)], // no request seen
        [6, udpFrame({ srcMac: B.mac, dstMac: C.mac, src: VIP, dst: C.ip, srcPort: 53, dstPort: 40000 })], // not a probe
      ]),
      VIP,
    );
    assert.deepEqual(probeRoundTrips(seen), [0.5, 2]);
  });

  it("reads gratuitous ARPs from a cooked (Linux SLL) capture", () => {
    const seen = observations(
      capture([[5, cooked(gratuitousArp({ mac: B.mac, ip: VIP }), 4)]]),
      VIP,
      LINKTYPE_LINUX_SLL,
    );
    assert.deepEqual(seen, [{ at: T0 + 5, kind: "garp", mac: macNumber(B.mac) }]);
  });

  it("splits the platform delay into the new holder's own answer and the network's part, from its capture", () => {
    const client = observations(
      capture([
        [99, reply(A, 1)],
        [400.2, request(2)], // sent after the announcement
        [401.4, reply(B, 2)],
      ]),
      VIP,
    );
    const atB = observations(
      capture([
        [400, cooked(gratuitousArp({ mac: B.mac, ip: VIP }), 4)],
        [400.5, cooked(request(2), 0)], // arrived (to us)
        [401.1, cooked(reply(B, 2), 4)], // its echo left (outgoing)
      ]),
      VIP,
      LINKTYPE_LINUX_SLL,
    );
    assert.deepEqual(
      atB.map((s) => [s.kind, s.mac, s.seq]),
      [
        ["garp", macNumber(B.mac), undefined],
        ["request", macNumber(C.mac), 2],
        ["reply", macNumber(B.mac), 2],
      ],
    );
    const s = analyseFailovers(client, { "vm-a": [], "vm-b": atB }, [cut])[0]!;
    assert.ok(Math.abs(s.platformDelayMs! - 1.2) < 1e-3, `platform delay ${s.platformDelayMs}`);
    assert.equal(s.requestAtHolderAt, T0 + 400.5);
    assert.equal(s.replyLeftHolderAt, T0 + 401.1);
    assert.ok(Math.abs(s.holderAnswerMs! - 0.6) < 1e-3, `holder answer ${s.holderAnswerMs}`);
    assert.ok(Math.abs(s.fabricDelayMs! - 0.6) < 1e-3, `fabric delay ${s.fabricDelayMs}`);
    // The old holder's capture is not read for the new holder's answer.
    const wrongHost = analyseFailovers(client, { "vm-a": atB, "vm-b": [] }, [cut])[0]!;
    assert.equal(wrongHost.holderAnswerMs, null);
  });
});
