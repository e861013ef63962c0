// Properties of the whole pipeline, over thousands of generated frames and announcement sequences:
// arbitrary and mutated frames never throw and never leave with a spoofed source; at most one holder per HAVIP;
// every emitted frame carries valid IPv4/TCP/UDP/ICMP checksums.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  arpFrame,
  frameProblem,
  gratuitousArp,
  icmpEchoFrame,
  icmpErrorFrame,
  ip,
  ipPacketOf,
  mac,
  multicastMac,
  tcpFrame,
  udpFrame,
  vrrpAdvertFrame,
} from "@havip/testkit";
import { readIpv4, readMac } from "@havip/wire";
import {
  EDGE_MAC,
  EIP_CLIENT,
  EIP_HAVIP,
  HAVIP,
  NET,
  ROUTER_MAC,
  VM,
  clientToHavip,
  harness,
  resolveGateway,
  type Harness,
} from "./test-support.ts";

const VMS = [VM.A, VM.B, VM.C, VM.CLIENT, VM.X];
type Vm = (typeof VMS)[number];
const INTERNET = "internet" as const;
type Sender = Vm | typeof INTERNET;

const macs = [
  ROUTER_MAC,
  HAVIP.virtualMac,
  EDGE_MAC,
  "ff:ff:ff:ff:ff:ff",
  multicastMac("224.0.0.18"),
  "02:00:00:00:77:77",
  ...VMS.map((v) => v.mac),
];
const ips = [
  HAVIP.ip,
  "10.0.1.1",
  "10.0.2.1",
  "10.0.1.99",
  "10.0.1.255",
  "224.0.0.18",
  "255.255.255.255",
  NET.remoteIp,
  NET.hostIp,
  NET.edgeIp,
  EIP_HAVIP.publicIp,
  EIP_CLIENT.publicIp,
  "0.0.0.0",
  ...VMS.map((v) => v.ip),
];

const anyOf = <T>(xs: readonly T[]) => fc.constantFrom(...xs);

interface FrameSpec {
  sender: Sender;
  kind: "udp" | "tcp" | "echo" | "error" | "vrrp" | "arp-request" | "arp-reply" | "garp";
  dstMac: string | number;
  /** The sender's own IP (most of the time), the HAVIP, or any known address. */
  src: string | null;
  dst: string;
  ttl: number;
  ports: [number, number];
  payload: Uint8Array;
}

const vmSender: fc.Arbitrary<Sender> = anyOf(VMS);
const internetSender: fc.Arbitrary<Sender> = fc.constant(INTERNET);
const frameSpec: fc.Arbitrary<FrameSpec> = fc.record({
  sender: fc.oneof({ weight: 5, arbitrary: vmSender }, { weight: 1, arbitrary: internetSender }),
  kind: anyOf(["udp", "tcp", "echo", "error", "vrrp", "arp-request", "arp-reply", "garp"] as const),
  dstMac: anyOf(macs),
  src: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyOf([HAVIP.ip, ...ips]) }),
  dst: anyOf(ips),
  ttl: fc.integer({ min: 0, max: 255 }),
  ports: fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })),
  payload: fc.uint8Array({ maxLength: 48 }),
});

function senderAddress(s: Sender): { mac: string; ip: string } {
  return s === INTERNET ? { mac: NET.gatewayMac, ip: NET.remoteIp } : { mac: s.mac, ip: s.ip };
}

function build(f: FrameSpec): Uint8Array {
  const me = senderAddress(f.sender);
  const src = f.src ?? me.ip;
  const dstMac = f.sender === INTERNET && f.kind !== "arp-request" ? EDGE_MAC : f.dstMac;
  const base = { srcMac: me.mac, dstMac, src, dst: f.dst, ttl: f.ttl };
  switch (f.kind) {
    case "udp":
      return udpFrame({
        ...base,
        srcPort: f.ports[0],
        dstPort: f.ports[1],
        payload: f.payload,
        checksum: f.ports[0] % 5 !== 0,
      });
    case "tcp":
      return tcpFrame({ ...base, srcPort: f.ports[0], dstPort: f.ports[1], payload: f.payload, seq: f.ports[0] * 7 });
    case "echo":
      return icmpEchoFrame({ ...base, id: f.ports[0], seq: f.ports[1], payload: f.payload });
    case "error": {
      const offending = udpFrame({
        srcMac: dstMac,
        dstMac: me.mac,
        src: f.dst,
        dst: src,
        srcPort: f.ports[1],
        dstPort: f.ports[0],
        payload: f.payload,
      });
      return icmpErrorFrame({ ...base, type: 3, code: 3, embedded: ipPacketOf(offending) });
    }
    case "vrrp":
      return vrrpAdvertFrame({
        srcMac: me.mac,
        src,
        dst: f.dst,
        dstMac,
        version: f.ports[0] % 2 === 0 ? 2 : 3,
        vrid: f.ports[1] & 0xff,
        addresses: [HAVIP.ip],
      });
    case "arp-request":
      return arpFrame({ op: "request", src: me.mac, dst: dstMac, senderIp: src, targetIp: f.dst });
    case "arp-reply":
      return arpFrame({ op: "reply", src: me.mac, dst: dstMac, senderIp: src, targetMac: dstMac, targetIp: f.dst });
    case "garp":
      return gratuitousArp({ mac: me.mac, ip: f.src ?? HAVIP.ip, op: f.ports[0] % 2 === 0 ? "request" : "reply" });
  }
}

/** A valid frame, then some bytes overwritten and maybe truncated or extended. */
const mutatedFrame = fc
  .tuple(
    frameSpec,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.integer({ min: -30, max: 8 }),
  )
  .map(([f, edits, cut]): [Sender, Uint8Array] => {
    const frame = build(f);
    for (const [at, v] of edits) frame[at % frame.length] = v;
    const len = Math.max(0, frame.length + Math.min(cut, 0));
    const out = new Uint8Array(len + Math.max(cut, 0));
    out.set(frame.subarray(0, len));
    return [f.sender, out];
  });

const randomFrame = fc
  .tuple(fc.oneof(anyOf(VMS), fc.constant(INTERNET)), fc.uint8Array({ maxLength: 120 }))
  .map(([s, bytes]): [Sender, Uint8Array] => [s, bytes]);

function portOf(s: Sender): string {
  return s === INTERNET ? NET.port : s.port;
}

/** The addresses a frame that `sender` caused may carry as its source, beyond the fabric's own. */
function allowedSources(h: Harness, sender: Vm): { macs: Set<number>; ips: Set<number> } {
  const held = h.fabric.holderOf(HAVIP.id)?.vnicId === sender.id;
  const macs = new Set([mac(sender.mac), mac(ROUTER_MAC), mac(EDGE_MAC)]);
  // The fabric's own address on the internet side: the sender of its next-hop ARP requests.
  const ips = new Set([ip(sender.ip), 0, ip(NET.edgeIp)]);
  if (held) {
    macs.add(mac(HAVIP.virtualMac));
    ips.add(ip(HAVIP.ip));
    ips.add(ip(EIP_HAVIP.publicIp));
  }
  if (sender.id === VM.CLIENT.id) ips.add(ip(EIP_CLIENT.publicIp));
  return { macs, ips };
}

/** Source addresses of a frame: Ethernet and ARP sender, or Ethernet and IPv4 source. */
function sourcesOf(frame: Uint8Array): { macs: number[]; ip: number | null } {
  const ethSrc = readMac(frame, 6);
  const type = (frame[12]! << 8) | frame[13]!;
  if (type === 0x0806) return { macs: [ethSrc, readMac(frame, 22)], ip: readIpv4(frame, 28) };
  if (type === 0x0800) return { macs: [ethSrc], ip: readIpv4(frame, 26) };
  return { macs: [ethSrc], ip: null };
}

function checkOutputs(h: Harness, sender: Sender, out: Record<string, Uint8Array[]>): void {
  for (const [port, frames] of Object.entries(out)) {
    for (const frame of frames) {
      const problem = frameProblem(frame);
      // VRRP is flooded as is (the fabric does not speak it); every checksum the fabric is responsible for holds.
      assert.ok(problem === null || problem.startsWith("vrrp:"), `${problem} on ${port}`);
      if (port === portOf(sender)) continue; // the fabric's own answers (ARP) go back to the asker
      if (sender === INTERNET) {
        assert.equal(readMac(frame, 6), mac(ROUTER_MAC), "from the internet, frames reach instances from the router");
        continue;
      }
      const allowed = allowedSources(h, sender);
      const src = sourcesOf(frame);
      for (const m of src.macs) assert.ok(allowed.macs.has(m), `spoofed source MAC left on ${port}`);
      if (src.ip !== null) assert.ok(allowed.ips.has(src.ip), `spoofed source IP left on ${port}`);
    }
  }
}

function fresh(): Harness {
  const h = harness();
  resolveGateway(h);
  return h;
}

describe("pipeline properties", () => {
  it("never throws and never emits a spoofed source, for arbitrary and mutated frames", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.oneof(mutatedFrame, randomFrame), { minLength: 1, maxLength: 12 }),
        (holderFirst, frames) => {
          const h = fresh();
          if (holderFirst) {
            h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
            h.drain();
          }
          for (const [sender, frame] of frames) {
            h.port(portOf(sender)).inject(frame);
            checkOutputs(h, sender, h.drain());
            h.clock.advance(3);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("every frame the fabric emits has valid IPv4/TCP/UDP/ICMP checksums", () => {
    let emitted = 0;
    fc.assert(
      fc.property(fc.array(frameSpec, { minLength: 1, maxLength: 12 }), (specs) => {
        const h = fresh();
        h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
        h.drain();
        for (const f of specs) {
          h.port(portOf(f.sender)).inject(build(f));
          const out = h.drain();
          for (const frames of Object.values(out)) {
            for (const frame of frames) {
              const problem = frameProblem(frame);
              assert.ok(problem === null || problem.startsWith("vrrp:"), problem ?? "");
              emitted++;
            }
          }
        }
      }),
      { numRuns: 2000 },
    );
    assert.ok(emitted > 2000, `the generated traffic should mostly get through (${emitted} frames emitted)`);
  });

  it("keeps at most one holder per HAVIP, always one that may claim it, under any sequence of announcements", () => {
    const claimant = fc.record({
      vm: anyOf(VMS),
      form: anyOf(["request", "reply", "unicast-reply", "conflict-answer", "spoofed-member-mac"] as const),
      wait: fc.integer({ min: 0, max: 400 }),
    });
    fc.assert(
      fc.property(fc.array(claimant, { minLength: 1, maxLength: 40 }), (steps) => {
        const h = fresh();
        let changes = 0;
        h.fabric.onObservation((o) => {
          if (o.kind === "holder-changed") changes++;
        });
        let seq = 0;
        for (const s of steps) {
          const m = s.form === "spoofed-member-mac" ? (s.vm.id === VM.A.id ? VM.B.mac : VM.A.mac) : s.vm.mac;
          const before = h.fabric.holderOf(HAVIP.id);
          const frame =
            s.form === "conflict-answer"
              ? arpFrame({
                  op: "reply",
                  src: m,
                  dst: HAVIP.virtualMac,
                  senderIp: HAVIP.ip,
                  targetMac: HAVIP.virtualMac,
                  targetIp: HAVIP.ip,
                })
              : s.form === "unicast-reply"
                ? arpFrame({
                    op: "reply",
                    src: m,
                    dst: ROUTER_MAC,
                    senderIp: HAVIP.ip,
                    targetMac: ROUTER_MAC,
                    targetIp: "10.0.1.1",
                  })
                : gratuitousArp({ mac: m, ip: HAVIP.ip, op: s.form === "reply" ? "reply" : "request" });
          h.port(s.vm.port).inject(frame);
          h.clock.advance(s.wait);
          const holder = h.fabric.holderOf(HAVIP.id);
          assert.ok(
            holder === null || holder.vnicId === VM.A.id || holder.vnicId === VM.B.id,
            `holder ${holder?.vnicId}`,
          );
          assert.equal(holder?.generation ?? 0, changes);
          // An answer to an announcement (unicast, target = sender = the HAVIP) never moves the holder.
          if (s.form === "conflict-answer") assert.deepEqual(holder, before);
          // Traffic to the HAVIP reaches exactly the holder (or nobody).
          const reached = clientToHavip(h, ++seq);
          const holderPort = holder === null ? [] : [holder.vnicId === VM.A.id ? VM.A.port : VM.B.port];
          assert.deepEqual(reached, holderPort);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
