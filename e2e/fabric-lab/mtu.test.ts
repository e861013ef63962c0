// Per-VPC MTU on the real fabric: in a VPC with MTU 8950, two instances exchange 8950-byte IP packets (ping
// with DF) and a TCP transfer of a few MB arrives intact on jumbo frames; in a VPC at 1500 whose instances' eth0 was
// (wrongly) raised to 9000, a 3028-byte packet with DF does not get through and the fabric counts it as
// `too-big`, while 1500-byte packets still pass. Toward the internet edge (MTU 1500) a jumbo VPC's packets
// with DF are answered with ICMP fragmentation needed, so path MTU discovery works.
import assert from "node:assert/strict";
import { test } from "node:test";
import { INTERNET_DEFAULTS } from "@havip/lab";
import { CaseLab, rootOnly, type CaseVm, TCP_SINK, TCP_SOURCE } from "./helpers.ts";

const JUMBO = 8950;

function vms(suffix: string, vniBase: number): CaseVm[] {
  return ["a", "b"].map((x, i) => ({
    lab: `vm-${x}${suffix}`,
    name: `vm-${x.toUpperCase()}`,
    ip: `10.0.1.1${i + 1}`,
    vni: vniBase + i,
  }));
}

/** `ping -M do` (DF set, no local fragmentation) of `size` payload bytes; resolves with the exit code and output. */
async function ping(run: CaseLab, from: string, to: string, size: number, count = 3) {
  const args = ["-M", "do", "-s", String(size), "-c", String(count), "-i", "0.2", "-W", "2", to];
  const r = await run.lab.execResult(from, "ping", args);
  return { code: r.code, output: r.stdout + r.stderr };
}

async function tooBigDrops(run: CaseLab): Promise<number> {
  return (await run.counters()).fabric.drops["too-big"];
}

test("per-VPC MTU: jumbo frames in a jumbo VPC, too-big drops in a 1500 one", rootOnly("fabric-lab mtu"), async (t) => {
  const run = await CaseLab.start(t, "hvmtu");
  const { lab } = run;
  const jumbo = vms("j", 7101);
  const plain = vms("p", 7201);
  const jumboNet = await run.network("jumbo", jumbo, { mtu: JUMBO });
  await run.network("plain", plain);
  const [ja, jb] = jumbo as [CaseVm, CaseVm];
  const [pa, pb] = plain as [CaseVm, CaseVm];

  await t.test("the API shows the VPC's MTU and eth0 carries it", async () => {
    const vpcs = await jumboNet.tenant<{ items: { mtu: number }[] }>("GET", "/v1/vpcs");
    assert.deepEqual(
      vpcs.items.map((v) => v.mtu),
      [JUMBO],
    );
    const link = await lab.exec(ja.lab, "ip", ["-o", "link", "show", "eth0"]);
    assert.match(link.stdout, new RegExp(`mtu ${JUMBO} `));
  });

  await t.test("vm-A pings vm-B with 8950-byte packets, DF set", async () => {
    const r = await ping(run, ja.lab, jb.ip, JUMBO - 28);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /3 received/);
    assert.match(r.output, new RegExp(`${JUMBO - 28 + 8} bytes from ${jb.ip.replaceAll(".", "\\.")}`));
  });

  await t.test("a TCP transfer of 4 MB arrives intact, on jumbo frames", async () => {
    const sink = lab.spawn(jb.lab, process.execPath, ["-e", TCP_SINK, jb.ip], { label: "tcp-sink" });
    await sink.waitForLog(/"listening"/, 10_000);
    const port = jumboNet.vnicOf(ja.lab);
    const before = (await run.counters()).fabric.ports[port];
    const r = await lab.execResult(ja.lab, process.execPath, ["-e", TCP_SOURCE, jb.ip, String(4 * 1024 * 1024)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as { sent: string; got: { bytes: number; sha256: string } };
    assert.deepEqual(result.got, { bytes: 4 * 1024 * 1024, sha256: result.sent });
    // What the fabric saw from vm-A: the data went in frames far above Ethernet's 1514 bytes.
    const after = (await run.counters()).fabric.ports[port];
    assert.ok(before !== undefined && after !== undefined, `counters of port ${port}`);
    const frames = after.rxFrames - before.rxFrames;
    const bytes = after.rxBytes - before.rxBytes;
    assert.ok(bytes / frames > 3000, `vm-A sent ${bytes} bytes in ${frames} frames`);
    t.diagnostic(`4 MB from vm-A: ${frames} frames, ${Math.round(bytes / frames)} bytes each on average`);
    await lab.stopProcess(jb.lab, "tcp-sink");
  });

  await t.test("toward the internet (MTU 1500) the fabric answers fragmentation needed, and TCP adapts", async () => {
    await run.havipd.ok("POST", "/v1/eip-pools", { region: "lab", cidr: "198.51.100.0/24" });
    const eip = await jumboNet.tenant<{ id: string }>("POST", "/v1/eips", { region: "lab" });
    await jumboNet.tenant("POST", `/v1/eips/${eip.id}/associate`, { vnicId: jumboNet.vnicOf(ja.lab) });
    await run.internet(7300);
    const internet = INTERNET_DEFAULTS.address;
    const r = await ping(run, ja.lab, internet, 2000, 1);
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /Frag needed and DF set \(mtu = 1500\)/);
    // (The first packet out may find the edge's next hop unresolved: three tries.)
    const fits = await ping(run, ja.lab, internet, 1500 - 28, 3);
    assert.equal(fits.code, 0, `1500 bytes go out: ${fits.output}`);
    // The internet host claims jumbo frames too, so TCP starts with 8950-byte segments: only path MTU
    // discovery (the fabric's ICMP) lets the transfer through the 1500-byte edge.
    await lab.exec("internet", "ip", ["link", "set", "eth0", "mtu", "9000"]);
    await lab.exec(ja.lab, "ip", ["route", "flush", "cache"]);
    const sink = lab.spawn("internet", process.execPath, ["-e", TCP_SINK, internet], { label: "tcp-sink" });
    await sink.waitForLog(/"listening"/, 10_000);
    const sent = await lab.execResult(ja.lab, process.execPath, ["-e", TCP_SOURCE, internet, String(1024 * 1024)]);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    const result = JSON.parse(sent.stdout) as { sent: string; got: { bytes: number; sha256: string } };
    assert.deepEqual(result.got, { bytes: 1024 * 1024, sha256: result.sent });
    await lab.stopProcess("internet", "tcp-sink");
  });

  await t.test("a VPC at 1500 drops bigger packets as too-big, even from a 9000-byte eth0", async () => {
    for (const vm of [pa, pb]) await lab.exec(vm.lab, "ip", ["link", "set", "eth0", "mtu", "9000"]);
    const small = await ping(run, pa.lab, pb.ip, 1500 - 28, 2);
    assert.equal(small.code, 0, `1500-byte packets pass: ${small.output}`);
    const before = await tooBigDrops(run);
    const big = await ping(run, pa.lab, pb.ip, 3000);
    assert.notEqual(big.code, 0, big.output);
    assert.match(big.output, / 0 received/);
    const dropped = (await tooBigDrops(run)) - before;
    assert.ok(dropped >= 3, `too-big drops: ${dropped}`);
    // The jumbo VPC is not affected by the other VPC's limit.
    assert.equal((await ping(run, ja.lab, jb.ip, JUMBO - 28, 1)).code, 0);
  });

  await run.down();
});
