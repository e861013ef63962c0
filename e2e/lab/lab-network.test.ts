// The lab's network layer on real namespaces: instances attached over kernel VXLAN through a test relay in
// the fabric namespace (a dumb hub standing in for the fabric), and the internet namespace's echo service.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { createLab, labDown, UNDERLAY } from "@havip/lab";
import type { Lab } from "@havip/lab";
import {
  assertNothingLeft,
  namespaceInodes,
  removeDir,
  rootOnly,
  tempStateDir,
  TestRelay,
  testPrefix,
} from "./helpers.ts";

const PREFIX = testPrefix("hvt1");

// One request from inside an instance, printed on stdout (fetch, so no curl is needed).
const FETCH =
  "fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(r=>r.text()).then(t=>process.stdout.write(t))";
const TCP_LINE =
  "const s=require('net').connect(+process.argv[2],process.argv[1]);s.setEncoding('utf8');" +
  "let d='';s.on('data',c=>d+=c);s.on('end',()=>{process.stdout.write(d);process.exit(0)});setTimeout(()=>process.exit(3),3000)";
const UDP_LINE =
  "const s=require('dgram').createSocket('udp4');s.on('message',m=>{process.stdout.write(m);process.exit(0)});" +
  "s.send('hi',+process.argv[2],process.argv[1]);setTimeout(()=>process.exit(3),3000)";

test("lab network: instances over kernel VXLAN through a relay", rootOnly("lab network suite"), async (t) => {
  const stateDir = tempStateDir("network");
  let lab: Lab | undefined;
  t.after(async () => {
    try {
      await labDown({ stateDir, prefix: PREFIX });
    } finally {
      removeDir(stateDir);
    }
  });

  lab = await createLab({ stateDir, prefix: PREFIX });
  const relay = await TestRelay.start(lab);
  const a = await lab.attachInstance({
    name: "vm-a",
    vni: 1001,
    mac: "02:00:0a:00:00:0a",
    ip: "10.0.0.10",
    prefixLen: 24,
    gateway: "10.0.0.1",
  });
  const b = await lab.attachInstance({
    name: "vm-b",
    vni: 1002,
    mac: "02:00:0a:00:00:0b",
    ip: "10.0.0.11",
    prefixLen: 24,
    gateway: "10.0.0.1",
    mtu: 1400,
  });
  await relay.attach(a.endpoint);
  await relay.attach(b.endpoint);

  await t.test("the fabric endpoint of an instance is (underlay address, 4789, its VNI)", () => {
    assert.deepEqual(a.endpoint, { address: "169.254.77.2", port: 4789, vni: 1001 });
    assert.equal(a.namespace, `${PREFIX}vm-a`);
    assert.deepEqual(lab?.fabricEndpoint, { address: "169.254.77.1", port: 4789 });
  });

  await t.test("eth0 has the vNIC's MAC, MTU, VNI, address and default route; TX offload is off", async () => {
    assert.ok(lab !== undefined);
    const linkA = await lab.linkInfo("vm-a");
    assert.deepEqual(linkA, { name: "eth0", mac: "02:00:0a:00:00:0a", mtu: 1500, up: true, vni: 1001 });
    const linkB = await lab.linkInfo("vm-b");
    assert.equal(linkB.mtu, 1400);
    assert.equal(linkB.vni, 1002);
    assert.deepEqual(await lab.addresses("vm-b"), [{ address: "10.0.0.11", prefixLen: 24 }]);
    assert.equal(await lab.txChecksumOffload("vm-a"), false);
    const routes = JSON.parse((await lab.exec("vm-a", "ip", ["-j", "route", "show", "default"])).stdout) as {
      gateway?: string;
      dev?: string;
    }[];
    assert.deepEqual(
      routes.map((r) => [r.gateway, r.dev]),
      [["10.0.0.1", "eth0"]],
    );
    // The device's UDP socket stays in the underlay, with the source port pinned for the fabric.
    const details = JSON.parse(
      execFileSync("ip", ["-n", a.namespace, "-j", "-d", "link", "show", "eth0"], { encoding: "utf8" }),
    ) as { linkinfo: { info_data: { remote: string; local: string; port: number; port_range: object } } }[];
    const data = details[0]?.linkinfo.info_data;
    assert.ok(data !== undefined);
    assert.equal(data.remote, UNDERLAY.fabricAddress);
    assert.equal(data.local, UNDERLAY.underlayAddress);
    assert.equal(data.port, 4789);
    assert.deepEqual(data.port_range, { low: 4789, high: 4790 });
    const sockets = execFileSync("ip", ["netns", "exec", lab.underlayNs, "ss", "-Huan"], { encoding: "utf8" });
    assert.match(sockets, /0\.0\.0\.0:4789/);
  });

  await t.test("two instances ping each other across the relay", async () => {
    assert.ok(lab !== undefined);
    const before = await relay.stats();
    const ping = await lab.exec("vm-a", "ping", ["-c", "3", "-i", "0.2", "-W", "2", "10.0.0.11"]);
    assert.match(ping.stdout, /3 packets transmitted, 3 received/);
    const after = await relay.stats();
    assert.ok(
      after.relayed >= before.relayed + 6,
      `the relay carried the pings (${before.relayed} → ${after.relayed})`,
    );
    await lab.exec("vm-b", "ping", ["-c", "1", "-W", "2", "10.0.0.10"]);
  });

  await t.test("the MTU is enforced: 1400 on vm-b lets 1372 bytes of ping through, not 1373", async () => {
    assert.ok(lab !== undefined);
    await lab.exec("vm-b", "ping", ["-c", "1", "-W", "2", "-M", "do", "-s", "1372", "10.0.0.10"]);
    const tooBig = await lab.execResult("vm-b", "ping", ["-c", "1", "-W", "2", "-M", "do", "-s", "1373", "10.0.0.10"]);
    assert.notEqual(tooBig.code, 0);
    assert.match(tooBig.stdout + tooBig.stderr, /message too long|mtu/i);
  });

  await t.test("TCP works: an HTTP fetch of vm-b's service from vm-a", async () => {
    assert.ok(lab !== undefined);
    await lab.startHttpService("vm-b");
    const answer = await lab.exec("vm-a", process.execPath, ["-e", FETCH, "http://10.0.0.11/"]);
    assert.equal(answer.stdout, "vm-b 10.0.0.11\n");
  });

  await t.test("machine fact: with TX checksum offload on, TCP across the VXLAN fails", async () => {
    assert.ok(lab !== undefined);
    await lab.exec("vm-a", "ethtool", ["-K", "eth0", "tx", "on"]);
    try {
      const broken = await lab.execResult("vm-a", process.execPath, ["-e", FETCH, "http://10.0.0.11/"]);
      assert.notEqual(broken.code, 0, "the fetch fails while the inner checksum is left to absent hardware");
    } finally {
      await lab.exec("vm-a", "ethtool", ["-K", "eth0", "tx", "off"]);
    }
    const again = await lab.exec("vm-a", process.execPath, ["-e", FETCH, "http://10.0.0.11/"]);
    assert.equal(again.stdout, "vm-b 10.0.0.11\n");
  });

  await t.test("the internet namespace's echo service reports the client's source address", async () => {
    assert.ok(lab !== undefined);
    const internet = await lab.attachInternet({ vni: 1900 });
    assert.equal(internet.namespace, `${PREFIX}internet`);
    assert.deepEqual(await lab.addresses("internet"), [{ address: "203.0.113.10", prefixLen: 24 }]);
    // A dumb hub does not route, so the client sits in the internet's subnet; through the fabric it would be
    // an instance behind an EIP.
    const client = await lab.attachInstance({
      name: "client",
      vni: 1003,
      mac: "02:00:cb:00:71:37",
      ip: "203.0.113.55",
      prefixLen: 24,
      gateway: "203.0.113.1",
    });
    await relay.attach(internet.endpoint);
    await relay.attach(client.endpoint);
    await lab.startEchoService();
    const tcp: unknown = JSON.parse(
      (await lab.exec("client", process.execPath, ["-e", TCP_LINE, "203.0.113.10", "7777"])).stdout,
    );
    assert.equal((tcp as { protocol: string }).protocol, "tcp");
    assert.equal((tcp as { address: string }).address, "203.0.113.55");
    const udp: unknown = JSON.parse(
      (await lab.exec("client", process.execPath, ["-e", UDP_LINE, "203.0.113.10", "7777"])).stdout,
    );
    assert.deepEqual({ ...(udp as object), port: 0 }, { protocol: "udp", address: "203.0.113.55", port: 0 });
  });

  await t.test("detaching an instance removes its namespace and its record", async () => {
    assert.ok(lab !== undefined);
    await lab.detachInstance("client");
    assert.deepEqual(
      lab.instances().map((i) => i.name),
      ["vm-a", "vm-b"],
    );
    const names = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    assert.equal(names.includes(`${PREFIX}client`), false);
  });

  await t.test("down removes every namespace, link and process of the lab", async () => {
    assert.ok(lab !== undefined);
    const namespaces = lab.state.namespaces.map((n) => n.name);
    assert.equal(namespaces.length, 5, "fabric, underlay, vm-a, vm-b, internet");
    const inodes = namespaceInodes(namespaces);
    const pids = lab.processes().flatMap((p) => (p.pid === null ? [] : [p.pid]));
    assert.equal(pids.length, 3, "relay, http service, echo service");
    const report = await lab.down();
    assert.deepEqual(report.namespaces, [...namespaces].sort());
    assertNothingLeft(PREFIX, inodes, pids);
    lab = undefined;
    const again = await labDown({ stateDir, prefix: PREFIX });
    assert.deepEqual(again, { namespaces: [], processes: 0, stateWasCorrupt: false }, "a second down finds nothing");
  });
});
