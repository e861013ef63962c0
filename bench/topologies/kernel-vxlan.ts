// Baseline "same encapsulation, no switch": every host's eth0 is a kernel VXLAN device whose UDP socket lives in
// the host's own underlay namespace (made there, then moved into the host as eth0, as the lab does), talking
// peer to peer to the other hosts' underlays: over one veth pair for two hosts, over a bridge for more. Flooded
// frames (ARP, GARP) are replicated to every peer; unicast goes straight to the peer that owns the MAC.
// Like the lab: the underlay's MTU is 50 bytes above eth0's, and eth0's TX checksum offload is off (DESIGN §7).
import type { BenchHost, Topology, TopologyFactory } from "../lib/topology.ts";
import {
  checkTopologyPrefix,
  configureEth0,
  execIn,
  hostAddress,
  hostMac,
  ipIn,
  sh,
  sweepNamespaces,
  teardown,
} from "./shared.ts";

/** VXLAN over IPv4 adds 50 bytes (outer Ethernet excluded: 20 IP + 8 UDP + 8 VXLAN + 14 inner Ethernet). */
const VXLAN_OVERHEAD = 50;
const VNI = 4242;
const PORT = 4789;

function underlayAddress(index: number): string {
  return `192.168.77.${String(index + 1)}`;
}

export const kernelVxlan: TopologyFactory = async (options) => {
  checkTopologyPrefix(options.prefix);
  const prefix = options.prefix;
  const mtu = options.mtu ?? 1500;
  const underlayMtu = String(mtu + VXLAN_OVERHEAD);
  const down = teardown(() => sweepNamespaces(prefix));
  try {
    const n = options.hosts.length;
    const hosts: BenchHost[] = options.hosts.map((name, i) => ({
      name,
      namespace: `${prefix}${name}`,
      ip: hostAddress(i),
      mac: hostMac(i),
    }));
    const underlays = hosts.map((_, i) => `${prefix}ul${String(i)}`);
    for (const ns of [...underlays, ...hosts.map((h) => h.namespace)]) await sh("ip", ["netns", "add", ns]);
    // The underlay wires: a direct veth pair for two hosts (truly peer to peer), a bridge for more.
    if (n === 2) {
      // prettier-ignore
      await ipIn(underlays[0]!, [
        "link", "add", "ul", "mtu", underlayMtu, "type", "veth", "peer", "name", "ul", "mtu", underlayMtu,
        "netns", underlays[1]!,
      ]);
    } else if (n > 2) {
      const sw = `${prefix}ulsw`;
      await sh("ip", ["netns", "add", sw]);
      await ipIn(sw, ["link", "add", "br0", "mtu", underlayMtu, "type", "bridge"]);
      await ipIn(sw, ["link", "set", "br0", "up"]);
      for (const [i, ns] of underlays.entries()) {
        const port = `p${String(i)}`;
        // prettier-ignore
        await ipIn(sw, [
          "link", "add", port, "mtu", underlayMtu, "type", "veth", "peer", "name", "ul", "mtu", underlayMtu,
          "netns", ns,
        ]);
        await ipIn(sw, ["link", "set", port, "master", "br0", "up"]);
      }
    }
    for (const [i, host] of hosts.entries()) {
      const ul = underlays[i]!;
      await ipIn(ul, ["link", "set", "lo", "up"]);
      if (n > 1) {
        await ipIn(ul, ["addr", "add", `${underlayAddress(i)}/24`, "dev", "ul"]);
        await ipIn(ul, ["link", "set", "ul", "up"]);
      }
      // prettier-ignore
      await ipIn(ul, [
        "link", "add", "vx0", "type", "vxlan", "id", String(VNI), "local", underlayAddress(i),
        "dstport", String(PORT), "nolearning",
      ]);
      await ipIn(ul, ["link", "set", "vx0", "netns", host.namespace, "name", "eth0"]);
      await configureEth0(host.namespace, host.ip, host.mac, mtu);
      await execIn(host.namespace, "ethtool", ["-K", "eth0", "tx", "off"]);
    }
    // Forwarding entries: flood to every peer (head-end replication), each peer's MAC to that peer.
    for (const [i, host] of hosts.entries()) {
      for (const [j, peer] of hosts.entries()) {
        if (i === j) continue;
        const dst = underlayAddress(j);
        await sh("bridge", ["-n", host.namespace, "fdb", "append", "00:00:00:00:00:00", "dev", "eth0", "dst", dst]);
        await sh("bridge", ["-n", host.namespace, "fdb", "add", peer.mac, "dev", "eth0", "dst", dst]);
      }
    }
    const topology: Topology = { system: "kernel-vxlan", hosts, down };
    return topology;
  } catch (e) {
    await down();
    throw e;
  }
};
