// The underlay: a veth pair between the fabric namespace and the underlay namespace, and the kernel VXLAN
// devices that become instances' eth0. Or, for an instance attached by veth, no underlay at all: its eth0 is
// one end of a veth pair whose other end is in the fabric namespace, where the fabric reads raw frames.
//
// A VXLAN device is created in the underlay namespace and then moved into its instance namespace (and renamed
// eth0 in the same step): its UDP socket stays behind in the underlay. The kernel VXLAN socket binds port 4789
// on every address of its namespace, which is why the fabric's own socket lives in another namespace, across
// the veth pair. Every device sends from the underlay address with the source port pinned to 4789, so the
// fabric tells vNICs apart by VNI: one VNI per vNIC.
import { runIn, runResultIn } from "./netns.ts";
import { run } from "./run.ts";

export const UNDERLAY = {
  /** Where the fabric's UDP socket listens, in the fabric namespace. */
  fabricAddress: "169.254.77.1",
  /** Where every VXLAN device of the lab sends from, in the underlay namespace. */
  underlayAddress: "169.254.77.2",
  prefixLen: 30,
  vxlanPort: 4789,
  /** Names of the veth ends: the fabric namespace's end, and the underlay namespace's end. */
  fabricLink: "underlay0",
  underlayLink: "fabric0",
  /** VXLAN over IPv4 adds 50 bytes; the veth carries the largest instance MTU plus that. */
  vethMtu: 9050,
  maxInstanceMtu: 9000,
} as const;

/** What the fabric needs to attach a port for an instance: frames for it go to (address, port) with this VNI. */
export interface VxlanEndpoint {
  /** Absent at run time (the form before veth attachments); here so the two kinds narrow on `kind`. */
  kind?: "vxlan";
  address: string;
  port: number;
  vni: number;
}

export function endpointOf(vni: number): VxlanEndpoint {
  return { address: UNDERLAY.underlayAddress, port: UNDERLAY.vxlanPort, vni };
}

/** A veth attachment: the fabric reads and writes the instance's frames on this interface of its namespace. */
export interface VethEndpoint {
  kind: "veth";
  interface: string;
}

/** How an instance reaches the fabric. */
export type LabEndpoint = VxlanEndpoint | VethEndpoint;

/** Joins the (existing) fabric and underlay namespaces with the veth pair and its link-local addresses. */
export async function createUnderlayLink(fabricNs: string, underlayNs: string): Promise<void> {
  const u = UNDERLAY;
  // prettier-ignore
  await run("ip", [
    "-n", fabricNs, "link", "add", u.fabricLink, "mtu", String(u.vethMtu), "type", "veth",
    "peer", "name", u.underlayLink, "mtu", String(u.vethMtu), "netns", underlayNs,
  ]);
  await run("ip", ["-n", fabricNs, "addr", "add", `${u.fabricAddress}/${u.prefixLen}`, "dev", u.fabricLink]);
  await run("ip", ["-n", underlayNs, "addr", "add", `${u.underlayAddress}/${u.prefixLen}`, "dev", u.underlayLink]);
  await run("ip", ["-n", fabricNs, "link", "set", u.fabricLink, "up"]);
  await run("ip", ["-n", underlayNs, "link", "set", u.underlayLink, "up"]);
}

export interface Eth0Spec {
  vni: number;
  mac: string;
  ip: string;
  prefixLen: number;
  gateway: string | null;
  mtu: number;
}

/**
 * Creates a veth pair: `fabricName` in the fabric namespace, eth0 in `namespace`, configured like a cloud vNIC
 * (as createVxlanEth0 does). Frames must reach the fabric's packet socket whole, so the fabric's end neither
 * coalesces (GRO) nor leaves segmentation (GSO/TSO) or checksums (tx) to anyone, and eth0 leaves no checksum
 * to hardware either.
 */
export async function createVethEth0(
  fabricNs: string,
  fabricName: string,
  namespace: string,
  spec: Omit<Eth0Spec, "vni">,
): Promise<void> {
  const mtu = String(spec.mtu);
  // prettier-ignore
  await run("ip", [
    "-n", fabricNs, "link", "add", fabricName, "mtu", mtu, "type", "veth",
    "peer", "name", "eth0", "mtu", mtu, "netns", namespace,
  ]);
  // The fabric's end carries no address and no IPv6 chatter: it is a port, not a host.
  await runResultIn(fabricNs, "sysctl", ["-e", "-q", "-w", `net.ipv6.conf.${fabricName}.disable_ipv6=1`]);
  await runIn(fabricNs, "ethtool", ["-K", fabricName, "gro", "off", "gso", "off", "tso", "off", "tx", "off"]);
  await run("ip", ["-n", fabricNs, "link", "set", fabricName, "up"]);
  await configureEth0(namespace, spec);
}

/** eth0 as a cloud vNIC: no IPv6, the vNIC's MAC, MTU and address, TX checksum offload off, default route. */
async function configureEth0(namespace: string, spec: Omit<Eth0Spec, "vni">): Promise<void> {
  // The VPC is IPv4 only: IPv6 link-local chatter (DAD, router solicitations, MLD) would only be dropped
  // and counted by the fabric. `-e` tolerates a kernel without IPv6.
  await runResultIn(namespace, "sysctl", ["-e", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=1"]);
  await run("ip", ["-n", namespace, "link", "set", "eth0", "address", spec.mac, "mtu", String(spec.mtu)]);
  // The inner checksum would be left to hardware that is not there, and TCP would fail.
  await runIn(namespace, "ethtool", ["-K", "eth0", "tx", "off"]);
  await run("ip", ["-n", namespace, "addr", "add", `${spec.ip}/${spec.prefixLen}`, "dev", "eth0"]);
  await run("ip", ["-n", namespace, "link", "set", "eth0", "up"]);
  if (spec.gateway !== null) {
    await run("ip", ["-n", namespace, "route", "add", "default", "via", spec.gateway, "dev", "eth0"]);
  }
}

/**
 * Creates the VXLAN device in the underlay under a temporary name, moves it into `namespace` as eth0 and
 * configures it like a cloud vNIC: MAC, address, MTU, default route, TX checksum offload off.
 */
export async function createVxlanEth0(
  underlayNs: string,
  tempName: string,
  namespace: string,
  spec: Eth0Spec,
): Promise<void> {
  const u = UNDERLAY;
  // prettier-ignore
  await run("ip", [
    "-n", underlayNs, "link", "add", tempName, "type", "vxlan", "id", String(spec.vni),
    "remote", u.fabricAddress, "local", u.underlayAddress, "dstport", String(u.vxlanPort),
    // The kernel picks the source port from [low, high): this pins it to 4789.
    "srcport", String(u.vxlanPort), String(u.vxlanPort + 1), "nolearning",
  ]);
  await run("ip", ["-n", underlayNs, "link", "set", tempName, "netns", namespace, "name", "eth0"]);
  await configureEth0(namespace, spec);
}
