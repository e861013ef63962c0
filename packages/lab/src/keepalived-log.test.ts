import assert from "node:assert/strict";
import { test } from "node:test";
import { currentVrrpState, parseKeepalivedLog } from "./keepalived-log.ts";

// Taken from a real run of keepalived 2.2.7 (-n -l -D) in a lab instance, shortened.
const MASTER_THEN_STOPPED = `Sat Nov 21 01:00:30 2026: Starting Keepalived v2.2.7 (01/16,2022)
Sat Nov 21 01:00:30 2026: Running on Linux 6.18.44 #1 SMP PREEMPT_DYNAMIC @0 (built for Linux 5.19.11)
Sat Nov 21 01:00:30 2026: Command line: 'keepalived' '-n' '-l' '-D' '-P' '-f' 'ka-a.conf' '-p' 'a.pid' '-r'
Sat Nov 21 01:00:30 2026:               'a-vrrp.pid'
Sat Nov 21 01:00:30 2026: Starting VRRP child process, pid=6652
Sat Nov 21 01:00:30 2026: Startup complete
Sat Nov 21 01:00:30 2026: (VI_1) removing VIPs.
Sat Nov 21 01:00:30 2026: (VI_1) Entering BACKUP STATE (init)
Sat Nov 21 01:00:30 2026: VRRP sockpool: [ifindex(  3), family(IPv4), proto(112), fd(13,14) multicast, address(224.0.0.18)]
Sat Nov 21 01:00:33 2026: (VI_1) Receive advertisement timeout
Sat Nov 21 01:00:33 2026: (VI_1) Entering MASTER STATE
Sat Nov 21 01:00:33 2026: (VI_1) setting VIPs.
Sat Nov 21 01:00:33 2026: Sending gratuitous ARP on eth0 for 10.0.0.100
Sat Nov 21 01:00:36 2026: Stopping
Sat Nov 21 01:00:36 2026: (VI_1) sent 0 priority
Sat Nov 21 01:00:36 2026: (VI_1) removing VIPs.
Sat Nov 21 01:00:37 2026: Stopped - used 0.002310 user time, 0.003021 system time
Sat Nov 21 01:00:37 2026: Stopped Keepalived v2.2.7 (01/16,2022)
`;

test("state transitions, start and stop are read from keepalived's console log, with their times", () => {
  const events = parseKeepalivedLog(MASTER_THEN_STOPPED);
  assert.deepEqual(
    events.map((e) => (e.kind === "state" ? `${e.instance}:${e.state}` : e.kind)),
    ["starting", "VI_1:BACKUP", "VI_1:MASTER", "stopping", "stopped"],
  );
  const master = events[2];
  assert.ok(master !== undefined);
  assert.deepEqual(master.at, new Date(2026, 10, 21, 1, 0, 33));
});

test("the current state is the last one entered, and none once keepalived stops", () => {
  const lines = MASTER_THEN_STOPPED.split("\n");
  const untilMaster = lines.slice(0, lines.findIndex((l) => l.includes("MASTER STATE")) + 1).join("\n");
  assert.equal(currentVrrpState(parseKeepalivedLog(untilMaster), "VI_1"), "MASTER");
  assert.equal(currentVrrpState(parseKeepalivedLog(untilMaster), "VI_2"), undefined);
  assert.equal(currentVrrpState(parseKeepalivedLog(MASTER_THEN_STOPPED), "VI_1"), undefined);
  const fault = "Sun Nov  1 09:05:07 2026: (VI_1) Entering FAULT STATE\n";
  const events = parseKeepalivedLog(untilMaster + "\n" + fault);
  assert.equal(currentVrrpState(events, "VI_1"), "FAULT");
  assert.deepEqual(events.at(-1)?.at, new Date(2026, 10, 1, 9, 5, 7), "a space-padded day");
});

test("lines that are not keepalived's are ignored", () => {
  assert.deepEqual(
    parseKeepalivedLog("garbage\n(VI_1) Entering MASTER STATE\nMon Foo 1 00:00:00 2026: Stopping\n"),
    [],
  );
});
