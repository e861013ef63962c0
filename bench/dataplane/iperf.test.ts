import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arrivedBetween, tcpFromReport, udpCounters, udpFromReport } from "./iperf.ts";

// Trimmed from real iperf3 3.12 -J client reports on this machine.
const udp = {
  end: {
    sum_sent: { seconds: 1.000061, bytes: 4181040, packets: 116140, lost_packets: 0, lost_percent: 0 },
    sum_received: {
      seconds: 1.002518,
      bytes: 2832696,
      packets: 115783,
      lost_packets: 37097,
      lost_percent: 31.941622180127432,
    },
  },
};
const tcp = {
  end: {
    sum_sent: { seconds: 1.000196, bytes: 1775370240, bits_per_second: 14200178684.977743, retransmits: 273 },
    sum_received: { seconds: 1.003725, bytes: 1768682560, bits_per_second: 14096949343.694736 },
  },
};

describe("iperf3 reports", () => {
  it("TCP: the receiver's rate, not the sender's", () => {
    const r = tcpFromReport(tcp);
    assert.ok(Math.abs(r.gbps - 14.0969) < 1e-3);
    assert.equal(r.retransmits, 273);
  });

  it("UDP: delivered = received − lost, per the receiver's seconds; sent per the sender's", () => {
    const r = udpFromReport(udp);
    assert.equal(r.delivered, 115783 - 37097);
    // The receiver's bytes agree: every delivered datagram carries 36 bytes of payload.
    assert.equal(r.delivered * 36, udp.end.sum_received.bytes);
    assert.ok(Math.abs(r.deliveredKpps - 78.4887) < 1e-3);
    assert.ok(Math.abs(r.sentKpps - 116.1329) < 1e-3);
    assert.ok(Math.abs(r.lossPct - 31.94) < 0.01);
  });

  it("a report without the summaries is an error, not a zero", () => {
    assert.throws(() => tcpFromReport({ end: {} }), /no receiver summary/);
    assert.throws(() => udpFromReport({ end: { sum_sent: { packets: 1 } } }), /packet counts/);
  });

  it("the receiving host's arrivals: datagrams read plus those dropped at a full socket buffer", () => {
    // The Udp lines of a namespace's /proc/net/snmp, before and after a run (Linux 6.1).
    const snmp = (inDatagrams: number, rcvbuf: number) =>
      [
        "Ip: Forwarding DefaultTTL InReceives",
        "Ip: 2 64 10",
        "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
        `Udp: ${String(inDatagrams)} 0 ${String(rcvbuf)} 3 ${String(rcvbuf)} 0 0 0 0`,
        "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
        "UdpLite: 0 0 0 0 0 0 0 0 0",
      ].join("\n");
    const before = udpCounters(snmp(100, 7));
    assert.equal(before.InDatagrams, 100);
    assert.equal(before.RcvbufErrors, 7);
    assert.deepEqual(arrivedBetween(before, udpCounters(snmp(940_100, 850_007))), {
      arrived: 1_790_000,
      dropped: 850_000,
    });
    assert.throws(() => udpCounters("Ip: a\nIp: 1"), /no Udp counters/);
  });
});
