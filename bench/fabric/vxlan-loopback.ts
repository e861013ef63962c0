// The VXLAN port set on loopback, no root: what one datagram through `VxlanPortSet` + the pipeline costs the
// fabric's process, without the lab's kernel VXLAN devices (whose downstream work lands in the fabric's
// `sendmsg`, see README.md). A child process plays two VTEPs: it keeps a window of 64-byte frames in flight
// from vNIC a to vNIC b (closed loop, so nothing is dropped for lack of buffer) and counts what arrives.
//
//   node bench/fabric/vxlan-loopback.ts [--seconds 5] [--size 64] [--window 256] [--runs 3]
//
// Prints datagrams/s through the fabric and the fabric process's CPU time per datagram (user and kernel).
import { fork, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Fabric, VxlanPortSet, type NetworkSpec } from "@havip/fabric";
import { udpFrame } from "@havip/testkit";
import { VXLAN_HEADER_LEN, writeVxlanHeader } from "@havip/wire";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    size: { type: "string", default: "64" },
    window: { type: "string", default: "256" },
    runs: { type: "string", default: "3" },
    vtep: { type: "boolean", default: false },
  },
  strict: true,
});

const A = { id: "eni-a", mac: "02:00:00:00:01:0b", ip: "10.0.1.11", vni: 1 };
const B = { id: "eni-b", mac: "02:00:00:00:01:0c", ip: "10.0.1.12", vni: 2 };

type ToVtep = { op: "run"; seconds: number; fabricPort: number } | { op: "exit" };
type FromVtep = { ready: { a: number; b: number } } | { done: { sent: number; received: number } };

/** The child: VTEP a sends, VTEP b counts; a window of datagrams in flight. */
async function vtep(): Promise<void> {
  const size = Number(values.size);
  const window = Number(values.window);
  const frame = udpFrame({
    srcMac: A.mac,
    dstMac: B.mac,
    src: A.ip,
    dst: B.ip,
    srcPort: 40000,
    dstPort: 9000,
    payload: new Uint8Array(size - 42).fill(0x61),
  });
  const datagram = Buffer.alloc(VXLAN_HEADER_LEN + frame.length);
  writeVxlanHeader(datagram, 0, A.vni);
  datagram.set(frame, VXLAN_HEADER_LEN);
  const a = dgram.createSocket("udp4");
  const b = dgram.createSocket("udp4");
  await Promise.all([a, b].map((s) => new Promise<void>((res) => s.bind(0, "127.0.0.1", res))));
  let sent = 0;
  let received = 0;
  let running = false;
  let fabricPort = 0;
  const topUp = () => {
    while (running && sent - received < window) {
      a.send(datagram, fabricPort, "127.0.0.1");
      sent++;
    }
  };
  b.on("message", () => {
    received++;
    if (sent - received < window / 2) topUp();
  });
  process.on("message", (m: ToVtep) => {
    if (m.op === "exit") {
      a.close();
      b.close();
      process.disconnect();
      return;
    }
    fabricPort = m.fabricPort;
    sent = 0;
    received = 0;
    running = true;
    topUp();
    // A lost datagram would shrink the window for good: refill it now and then.
    const refill = setInterval(topUp, 50);
    setTimeout(() => {
      running = false;
      clearInterval(refill);
      setTimeout(() => process.send?.({ done: { sent, received } } satisfies FromVtep), 200);
    }, m.seconds * 1000);
  });
  process.send?.({ ready: { a: a.address().port, b: b.address().port } } satisfies FromVtep);
}

function next(child: ChildProcess): Promise<FromVtep> {
  return new Promise((res) => {
    child.once("message", (m: FromVtep) => {
      res(m);
    });
  });
}

async function main(): Promise<void> {
  const spec: NetworkSpec = {
    routerMac: "02:00:00:00:00:01",
    internet: null,
    vpcs: [{ id: "vpc-a", cidr: "10.0.0.0/16" }],
    subnets: [{ id: "subnet-a", vpcId: "vpc-a", cidr: "10.0.1.0/24", gatewayIp: "10.0.1.1", broadcast: "auto" }],
    vnics: [A, B].map((v) => ({ id: v.id, subnetId: "subnet-a", mac: v.mac, ip: v.ip, port: v.id })),
    havips: [],
    eips: [],
  };
  const fabric = new Fabric(spec);
  const set = new VxlanPortSet({ address: "127.0.0.1", port: 0 });
  const { port: fabricPort } = await set.open();
  const child = fork(new URL(import.meta.url).pathname, [...process.argv.slice(2), "--vtep"]);
  try {
    const ready = await next(child);
    if (!("ready" in ready)) throw new Error("the VTEP child did not start");
    fabric.attachPort(set.addPort(A.id, { remoteAddress: "127.0.0.1", remotePort: ready.ready.a, vni: A.vni }));
    fabric.attachPort(set.addPort(B.id, { remoteAddress: "127.0.0.1", remotePort: ready.ready.b, vni: B.vni }));
    const seconds = Number(values.seconds);
    for (let run = 0; run <= Number(values.runs); run++) {
      const rx0 = set.counters.rxDatagrams;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      child.send({ op: "run", seconds: run === 0 ? 1 : seconds, fabricPort } satisfies ToVtep);
      const done = await next(child);
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const rx = set.counters.rxDatagrams - rx0;
      if (!("done" in done)) throw new Error("unexpected message from the VTEP child");
      if (run === 0) continue; // warm-up
      const us = (x: number) => (x / Math.max(1, rx)).toFixed(2);
      console.log(
        `run ${run}: ${Math.round(rx / seconds)} datagrams/s through the fabric, ` +
          `${us(cpu.user + cpu.system)} us CPU each (user ${us(cpu.user)}, kernel ${us(cpu.system)}), ` +
          `process ${((100 * (cpu.user + cpu.system)) / 1e6 / wall).toFixed(0)}% of a core, ` +
          `received ${done.done.received} of ${done.done.sent}, load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
  } finally {
    child.send({ op: "exit" } satisfies ToVtep);
    fabric.close();
    await set.close();
  }
}

if (values.vtep) await vtep();
else await main();
