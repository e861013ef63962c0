// The OVN peer: hosts joined by one OVN logical switch on Open vSwitch's userspace datapath, with the VIP as an
// OVN `virtual` port whose parents claim it by gratuitous ARP (OVN's own HAVIP feature). Each host is a namespace
// whose eth0 is one end of a veth; the other end sits in the switch's namespace, on br-int, bound to the host's
// logical port by external_ids:iface-id.
import type { BenchHost, Topology, TopologyFactory, TopologyOptions } from "../lib/topology.ts";
import { must, run, startOvnDaemons, type OvnDaemons } from "./ovn-daemons.ts";
import { checkTopologyPrefix, configureEth0, hostAddress, hostMac, sweepNamespaces, teardown } from "./shared.ts";

const SWITCH = "sw0";
/** The logical port of the VIP. */
export const VIP_PORT = "vip";

async function pingable(from: BenchHost, to: BenchHost, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await run("ip", ["netns", "exec", from.namespace, "ping", "-c", "1", "-W", "1", to.ip]);
    if (r.code === 0) return true;
  }
  return false;
}

export const ovnTopology: TopologyFactory = async (options: TopologyOptions): Promise<Topology> => {
  checkTopologyPrefix(options.prefix);
  const mtu = options.mtu ?? 1500;
  const hosts: BenchHost[] = options.hosts.map((name, i) => ({
    name,
    namespace: `${options.prefix}${name}`,
    ip: hostAddress(i),
    mac: hostMac(i),
  }));
  let daemons: OvnDaemons | undefined;
  // Also on Ctrl-C (shared.ts): every daemon by pidfile and the switch's namespace, then the hosts' namespaces.
  const down = teardown(async () => {
    daemons?.stop();
    await sweepNamespaces(options.prefix);
  });

  try {
    daemons = await startOvnDaemons(options.prefix);
    const ovs = daemons.namespace;
    await daemons.vsctl(["set", "interface", "br-int", `mtu_request=${mtu}`]);
    await daemons.nbctl(["ls-add", SWITCH]);
    const parents = new Set(options.vip?.parents ?? []);
    for (const [i, host] of hosts.entries()) {
      const sw = `h${i}`; // the switch end, in the switch's own namespace (no collisions)
      await must("ip", ["netns", "add", host.namespace]);
      await must("ip", ["-n", ovs, "link", "add", sw, "type", "veth", "peer", "name", "eth0", "netns", host.namespace]);
      await configureEth0(host.namespace, host.ip, host.mac, mtu);
      // The userspace datapath never fills in the checksums a veth leaves to "hardware" (as with VXLAN).
      await must("ip", ["netns", "exec", host.namespace, "ethtool", "-K", "eth0", "tx", "off"]);
      await must("ip", ["-n", ovs, "link", "set", sw, "mtu", String(mtu), "up"]);
      await daemons.vsctl([
        "add-port",
        "br-int",
        sw,
        "--",
        "set",
        "interface",
        sw,
        `external_ids:iface-id=${host.name}`,
        `mtu_request=${mtu}`,
      ]);
      const security = parents.has(host.name)
        ? `${host.mac} ${host.ip} ${options.vip!.address}`
        : `${host.mac} ${host.ip}`;
      await daemons.nbctl([
        "lsp-add",
        SWITCH,
        host.name,
        "--",
        "lsp-set-addresses",
        host.name,
        `${host.mac} ${host.ip}`,
        "--",
        "lsp-set-port-security",
        host.name,
        security,
      ]);
    }
    if (options.vip !== undefined) {
      await daemons.nbctl([
        "lsp-add",
        SWITCH,
        VIP_PORT,
        "--",
        "set",
        "logical_switch_port",
        VIP_PORT,
        "type=virtual",
        `options:virtual-ip=${options.vip.address}`,
        `options:virtual-parents=${options.vip.parents.join(",")}`,
      ]);
    }
    // Until ovn-controller has installed the flows of everything above.
    await daemons.nbctl(["--wait=hv", "sync"]);
    const first = hosts[0];
    if (first !== undefined) {
      for (const other of hosts.slice(1)) {
        if (!(await pingable(first, other, 15_000))) {
          throw new Error(`ovn: ${first.name} cannot ping ${other.name}\n${daemons.logs()}`);
        }
      }
    }
  } catch (error) {
    await down();
    throw error;
  }

  const sbctl = daemons.sbctl;
  return {
    system: "ovn",
    hosts,
    async holder(): Promise<string | null> {
      if (options.vip === undefined) return null;
      const out = await sbctl([
        "--bare",
        "--columns=virtual_parent",
        "find",
        "port_binding",
        `logical_port=${VIP_PORT}`,
      ]);
      const parent = out.trim();
      return parent === "" ? null : parent;
    },
    down,
  };
};
