// EIP 1:1 NAT: incremental checksum updates equal a full recomputation; out then in is the identity; ICMP
// errors' embedded headers are translated.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { frameProblem, icmpEchoFrame, icmpErrorFrame, ipPacketOf, tcpFrame, udpFrame } from "@havip/testkit";
import { ICMP_TYPE } from "@havip/wire";
import { translateDestination, translateSource } from "./nat.ts";

const IP = 14;
const u32 = fc.integer({ min: 1, max: 0xffffffff });
const port = fc.integer({ min: 1, max: 65535 });
const payload = fc.uint8Array({ maxLength: 64 });

interface Flow {
  kind: "tcp" | "udp" | "udp-nocsum" | "echo" | "error-udp" | "error-tcp";
  src: number;
  dst: number;
  sport: number;
  dport: number;
  payload: Uint8Array;
  ttl: number;
  seq: number;
}

const flow: fc.Arbitrary<Flow> = fc.record({
  kind: fc.constantFrom("tcp", "udp", "udp-nocsum", "echo", "error-udp", "error-tcp"),
  src: u32,
  dst: u32,
  sport: port,
  dport: port,
  payload,
  ttl: fc.integer({ min: 2, max: 255 }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
});

const M = { srcMac: "02:00:00:00:00:0a", dstMac: "02:00:00:00:00:0b" };

/** A frame of the flow from `src`. For errors: `src` reports about a packet it received from `dst`. */
function build(f: Flow, src = f.src): Uint8Array {
  const base = { ...M, src, dst: f.dst, ttl: f.ttl };
  switch (f.kind) {
    case "tcp":
      return tcpFrame({ ...base, srcPort: f.sport, dstPort: f.dport, seq: f.seq, payload: f.payload });
    case "udp":
    case "udp-nocsum":
      return udpFrame({ ...base, srcPort: f.sport, dstPort: f.dport, payload: f.payload, checksum: f.kind === "udp" });
    case "echo":
      return icmpEchoFrame({ ...base, id: f.sport, seq: f.dport, payload: f.payload });
    case "error-udp":
    case "error-tcp": {
      // The offending packet came from dst to src; the error quotes its header and 8 bytes, or more (a quote
      // that cuts the TCP checksum field in half cannot be adjusted by anyone, so lengths avoid that).
      const inner = { ...M, src: f.dst, dst: src, ttl: f.ttl, srcPort: f.dport, dstPort: f.sport, payload: f.payload };
      const offending = f.kind === "error-udp" ? udpFrame(inner) : tcpFrame({ ...inner, seq: f.seq });
      return icmpErrorFrame({
        ...base,
        type: ICMP_TYPE.DEST_UNREACHABLE,
        code: 3,
        embedded: ipPacketOf(offending, f.seq % 2 === 0 ? 8 : 20 + (f.seq % 17)),
      });
    }
  }
}

/** The reply's shape: addresses and ports swapped (no checksum changes: the sums are commutative). */
function reflect(frame: Uint8Array): Uint8Array {
  const r = frame.slice();
  r.set(frame.subarray(IP + 16, IP + 20), IP + 12);
  r.set(frame.subarray(IP + 12, IP + 16), IP + 16);
  const proto = frame[IP + 9];
  if (proto === 6 || proto === 17) {
    r.set(frame.subarray(IP + 22, IP + 24), IP + 20);
    r.set(frame.subarray(IP + 20, IP + 22), IP + 22);
  }
  return r;
}

describe("EIP NAT", () => {
  it("updates checksums incrementally exactly as a full recomputation would", () => {
    fc.assert(
      fc.property(flow, u32, (f, eip) => {
        const out = build(f);
        translateSource(out, IP, eip);
        assert.equal(frameProblem(out), null);
        assert.deepEqual(out, build(f, eip));
      }),
      { numRuns: 3000 },
    );
  });

  it("out then in is the identity (the reply to a translated packet comes back as the reply to the original)", () => {
    fc.assert(
      fc.property(flow, u32, (f, eip) => {
        const original = build(f);
        const out = original.slice();
        translateSource(out, IP, eip);
        assert.equal(frameProblem(out), null);
        if (f.kind === "error-udp" || f.kind === "error-tcp") {
          // Errors have no reply; translating back restores every byte.
          translateSource(out, IP, f.src);
          assert.deepEqual(out, original);
          return;
        }
        const reply = reflect(out);
        translateDestination(reply, IP, f.src);
        assert.equal(frameProblem(reply), null);
        assert.deepEqual(reflect(reply), original);
      }),
      { numRuns: 3000 },
    );
  });

  it("translates the embedded packet of an ICMP error: its destination outbound, its source inbound", () => {
    const eip = 0xc6336400 + 10;
    const priv = 0x0a000214;
    const remote = 0xc000024d;
    const err: Flow = {
      kind: "error-udp",
      src: priv,
      dst: remote,
      sport: 9999,
      dport: 9,
      payload: new Uint8Array(4),
      ttl: 64,
      seq: 0,
    };
    const out = build(err);
    translateSource(out, IP, eip);
    assert.deepEqual([...out.subarray(IP + 12, IP + 16)], [0xc6, 0x33, 0x64, 0x0a]);
    const e = IP + 20 + 8;
    assert.deepEqual([...out.subarray(e + 12, e + 20)], [0xc0, 0x00, 0x02, 0x4d, 0xc6, 0x33, 0x64, 0x0a]);
    assert.equal(frameProblem(out), null);
    // Inbound: an error to the EIP about a packet the EIP sent.
    const inFrame = icmpErrorFrame({
      ...M,
      src: remote,
      dst: eip,
      type: ICMP_TYPE.TIME_EXCEEDED,
      code: 0,
      embedded: ipPacketOf(udpFrame({ ...M, src: eip, dst: 0x08080808, srcPort: 1, dstPort: 2 })),
    });
    translateDestination(inFrame, IP, priv);
    assert.deepEqual([...inFrame.subarray(e + 12, e + 16)], [0x0a, 0x00, 0x02, 0x14]);
    assert.equal(frameProblem(inFrame), null);
  });

  it("leaves a UDP datagram without checksum without one, and a non-first fragment's payload alone", () => {
    const f = udpFrame({ ...M, src: 1, dst: 2, srcPort: 3, dstPort: 4, checksum: false, payload: new Uint8Array(8) });
    translateSource(f, IP, 0x01020304);
    assert.equal((f[IP + 26]! << 8) | f[IP + 27]!, 0);
    const frag = udpFrame({ ...M, src: 1, dst: 2, srcPort: 3, dstPort: 4, payload: new Uint8Array(8) });
    frag[IP + 6] = 0x00;
    frag[IP + 7] = 0x10; // fragment offset 16 × 8: the bytes after the header are data, not a UDP header
    const before = frag.slice(IP + 20);
    translateSource(frag, IP, 0x01020304);
    assert.deepEqual(frag.slice(IP + 20), before);
  });
});
