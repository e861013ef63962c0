// The system under test as a user runs it: a lab (@havip/lab) whose instances' eth0 are kernel VXLAN devices
// towards the fabric agent in the lab's fabric namespace, driven by havipd over its Unix socket (DESIGN §7);
// the network made through the REST API: a project, a VPC (10.0.0.0/16, with the benchmark's MTU), subnet
// 10.0.1.0/24, one instance per host, attachments, and the VIP as a HAVIP whose members are the parents.
// `havipVeth` ("havip-veth") is the same with every instance attached by veth: eth0 is one end of a veth pair
// whose other end the agent reads as raw frames (a local vNIC, no tunnel).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, labDown, type LabEndpoint } from "@havip/lab";
import type { HaVip, Instance } from "@havip/control";
import { LabDaemon, startAgent } from "../../e2e/fabric-lab/helpers.ts";
import type { BenchHost, Topology, TopologyFactory, TopologyOptions } from "../lib/topology.ts";
import { checkTopologyPrefix, execIn, hostAddress, teardown } from "./shared.ts";

/** The first instance's VNI; one VNI per vNIC (the lab tells vNICs apart by VNI). */
const FIRST_VNI = 1001;

/** Sends SIGTERM to every process whose command line names `dir` (this topology's own temp directory). */
function stopProcessesUsing(dir: string): void {
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    if (Number(pid) !== process.pid && cmdline.includes(dir)) {
      try {
        process.kill(Number(pid), "SIGTERM");
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** Waits until the first host reaches every other through the fabric (havipd applies the spec asynchronously). */
async function reachable(hosts: readonly BenchHost[], timeoutMs = 15_000): Promise<void> {
  const [from, ...others] = hosts;
  if (from === undefined) return;
  const deadline = Date.now() + timeoutMs;
  for (const to of others) {
    for (;;) {
      const ok = await execIn(from.namespace, "ping", ["-c", "1", "-W", "1", to.ip]).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`havip: ${from.name} cannot reach ${to.name} through the fabric`);
    }
  }
}

/** The body of an attachment PUT for an instance's endpoint. */
function attachmentBody(endpoint: LabEndpoint): Record<string, unknown> {
  if (endpoint.kind === "veth") return { interface: endpoint.interface };
  return { remoteAddress: endpoint.address, remotePort: endpoint.port, vni: endpoint.vni };
}

/** How the instances reach the fabric: kernel VXLAN devices (system "havip") or veth pairs ("havip-veth"). */
async function startHavip(
  options: TopologyOptions,
  attach: "vxlan" | "veth",
  system: string,
  agentArgs: readonly string[] = [],
): Promise<Topology> {
  checkTopologyPrefix(options.prefix);
  const prefix = options.prefix;
  const mtu = options.mtu ?? 1500;
  const stateDir = mkdtempSync(join(tmpdir(), `havip-bench-${prefix}`));
  let havipd: LabDaemon | undefined;
  const down = teardown(async () => {
    try {
      await havipd?.stop().catch(() => undefined);
      stopProcessesUsing(stateDir); // a havipd still starting when Ctrl-C came (not yet known as `havipd`)
      await labDown({ stateDir, prefix });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
  try {
    const lab = await createLab({ stateDir, prefix });
    const agentSocket = join(stateDir, "fabric-agent.sock");
    await startAgent(lab, agentSocket, agentArgs);
    havipd = await LabDaemon.start(lab, join(stateDir, "havipd"), agentSocket);
    const admin = havipd;
    const { token } = await admin.ok<{ token: string }>("POST", "/v1/projects", { name: "bench" });
    const tenant = <T>(method: string, path: string, body?: unknown): Promise<T> =>
      admin.ok<T>(method, path, body, token);

    // MTU 1500 is the default: leave it out, so a havipd without the per-VPC `mtu` still runs the 1500 cases.
    const vpcBody = { cidr: "10.0.0.0/16", region: "lab", ...(mtu === 1500 ? {} : { mtu }) };
    const made = await admin.call<{ id: string; mtu?: number; error?: { code: string; message?: string } }>(
      "POST",
      "/v1/vpcs",
      vpcBody,
      token,
    );
    if (made.status !== 201 && made.status !== 200) {
      throw new Error(
        `havip: this havipd refused a VPC with mtu ${String(mtu)} (${String(made.status)} ` +
          `${made.json.error?.code ?? ""}: ${made.json.error?.message ?? ""}); the per-VPC mtu is needed for jumbo runs`,
      );
    }
    if (mtu !== 1500 && made.json.mtu !== mtu) {
      throw new Error(`havip: havipd made the VPC with mtu ${String(made.json.mtu)}, not ${String(mtu)}`);
    }
    const vpc = made.json;
    const subnet = await tenant<{ id: string; gatewayIp: string }>("POST", "/v1/subnets", {
      vpcId: vpc.id,
      cidr: "10.0.1.0/24",
      zone: "lab-a",
    });
    const instances: Instance[] = [];
    for (const [i, name] of options.hosts.entries()) {
      instances.push(
        await tenant<Instance>("POST", "/v1/instances", { name, subnetId: subnet.id, ipAddress: hostAddress(i) }),
      );
    }
    let havipId: string | undefined;
    if (options.vip !== undefined) {
      const members = options.vip.parents.map((parent) => {
        const i = options.hosts.indexOf(parent);
        if (i < 0) throw new Error(`havip: VIP parent '${parent}' is not a host`);
        return instances[i]!.id;
      });
      const made = await tenant<HaVip>("POST", "/v1/havips", {
        subnetId: subnet.id,
        ipAddress: options.vip.address,
        members,
      });
      havipId = made.id;
    }
    const hosts: BenchHost[] = [];
    for (const [i, name] of options.hosts.entries()) {
      const vnic = instances[i]!.vnics[0]!;
      const attached = await lab.attachInstance({
        name,
        vni: FIRST_VNI + i,
        mac: vnic.macAddress,
        ip: hostAddress(i),
        prefixLen: 24,
        gateway: subnet.gatewayIp,
        mtu,
        attach,
      });
      await admin.ok("PUT", `/v1/fabric/attachments/${vnic.id}`, attachmentBody(attached.endpoint));
      hosts.push({ name, namespace: lab.namespaceOf(name), ip: hostAddress(i), mac: vnic.macAddress });
    }
    await reachable(hosts);
    const vnicHost = new Map(instances.map((inst, i) => [inst.primaryVnicId, options.hosts[i]!]));
    const topology: Topology = {
      system,
      hosts,
      down,
      ...(havipId === undefined
        ? {}
        : {
            holder: async () => {
              const shown = await tenant<HaVip>("GET", `/v1/havips/${havipId}`);
              const vnicId = shown.holder?.vnicId;
              return vnicId === undefined ? null : (vnicHost.get(vnicId) ?? null);
            },
          }),
    };
    return topology;
  } catch (e) {
    await down();
    throw e;
  }
}

export const havip: TopologyFactory = (options) => startHavip(options, "vxlan", "havip");
/** The same with every instance attached by veth. */
export const havipVeth: TopologyFactory = (options) => startHavip(options, "veth", "havip-veth");
/** The VXLAN case with holder verification off: the A/B of what verification costs a failover. */
export const havipNoVerify: TopologyFactory = (options) =>
  startHavip(options, "vxlan", "havip-noverify", ["--verify-interval-ms", "0"]);
