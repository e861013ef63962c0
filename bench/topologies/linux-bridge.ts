// Baseline "the kernel's best": every host's eth0 is one end of a veth pair whose other end is a port of a
// Linux bridge in a switch namespace. Offloads stay as the kernel sets them (this is the ceiling, not a twin).
import type { BenchHost, Topology, TopologyFactory } from "../lib/topology.ts";
import {
  checkTopologyPrefix,
  configureEth0,
  hostAddress,
  hostMac,
  ipIn,
  sh,
  sweepNamespaces,
  teardown,
} from "./shared.ts";

export const linuxBridge: TopologyFactory = async (options) => {
  checkTopologyPrefix(options.prefix);
  const prefix = options.prefix;
  const mtu = options.mtu ?? 1500;
  const down = teardown(() => sweepNamespaces(prefix));
  try {
    const sw = `${prefix}sw`;
    await sh("ip", ["netns", "add", sw]);
    await ipIn(sw, ["link", "add", "br0", "mtu", String(mtu), "type", "bridge"]);
    await ipIn(sw, ["link", "set", "br0", "up"]);
    const hosts: BenchHost[] = [];
    for (const [i, name] of options.hosts.entries()) {
      const host = { name, namespace: `${prefix}${name}`, ip: hostAddress(i), mac: hostMac(i) };
      const port = `p${String(i)}`;
      await sh("ip", ["netns", "add", host.namespace]);
      // prettier-ignore
      await ipIn(sw, [
        "link", "add", port, "mtu", String(mtu), "type", "veth",
        "peer", "name", "eth0", "mtu", String(mtu), "netns", host.namespace,
      ]);
      await ipIn(sw, ["link", "set", port, "master", "br0", "up"]);
      await configureEth0(host.namespace, host.ip, host.mac, mtu);
      hosts.push(host);
    }
    const topology: Topology = { system: "linux-bridge", hosts, down };
    return topology;
  } catch (e) {
    await down();
    throw e;
  }
};
