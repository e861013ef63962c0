// Capture to pcap: the file reads back with readPcap and, when tcpdump is installed, with `tcpdump -r`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ManualClock, MemoryPort, arpRequest, gratuitousArp } from "@havip/testkit";
import { readPcap } from "@havip/wire";
import { Fabric } from "../fabric.ts";
import { HAVIP, VM, seedSpec } from "../test-support.ts";
import { CapturePort, PcapFile } from "./capture.ts";

function tcpdumpPath(): string | null {
  for (const p of ["/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/sbin/tcpdump"]) {
    try {
      execFileSync(p, ["--version"], { stdio: "ignore" });
      return p;
    } catch {
      // not there
    }
  }
  return null;
}

describe("capture", () => {
  it("writes what a port receives and sends to a pcap file that tcpdump reads", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "havip-capture-"));
    try {
      const path = join(dir, "p-a.pcap");
      const file = new PcapFile(path);
      const clock = new ManualClock(1_700_000_000_123);
      const fabric = new Fabric(seedSpec(), { clock });
      const a = new MemoryPort(VM.A.port);
      fabric.attachPort(new CapturePort(a, file, clock));
      fabric.attachPort(new MemoryPort(VM.B.port));
      a.inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
      clock.advance(1.5);
      a.inject(arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: VM.B.ip }));
      file.close();

      const pcap = readPcap(readFileSync(path));
      assert.equal(pcap.linktype, 1);
      assert.deepEqual(
        pcap.records.map((r) => [r.tsMicros, r.data.length]),
        [
          [1_700_000_000_123_000n, 42], // the announcement, received
          [1_700_000_000_124_500n, 42], // the ARP request, received
          [1_700_000_000_124_500n, 42], // the fabric's answer, sent
        ],
      );
      assert.deepEqual(pcap.records[2]?.data, a.delivered[0]);

      const tcpdump = tcpdumpPath();
      if (tcpdump === null) {
        const msg = "TCPDUMP IS NOT INSTALLED: the pcap was checked with readPcap only, not read back with tcpdump -r";
        console.warn(`\n*** ${msg} ***\n`);
        t.diagnostic(msg);
        return;
      }
      const text = execFileSync(tcpdump, ["-r", path, "-n", "-e"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      const lines = text.trim().split("\n");
      assert.equal(lines.length, 3, text);
      assert.match(lines[0]!, /Request who-has 10\.0\.1\.50 \(ff:ff:ff:ff:ff:ff\) tell 10\.0\.1\.50/);
      assert.match(lines[2]!, /Reply 10\.0\.1\.12 is-at 02:00:00:00:01:0c/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
