// Reading and changing an instance's eth0 as the kernel sees it (ip -j, ethtool).
import { run, runResult } from "./run.ts";
import { runIn } from "./netns.ts";

export interface InterfaceAddress {
  address: string;
  prefixLen: number;
}

export interface LinkInfo {
  name: string;
  mac: string;
  mtu: number;
  /** The administrative state (the UP flag). */
  up: boolean;
  /** The VXLAN network identifier, for a VXLAN device. */
  vni: number | null;
}

interface IpLink {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
}

interface IpAddr {
  addr_info: { family: string; local: string; prefixlen: number }[];
}

export async function linkInfo(namespace: string, device = "eth0"): Promise<LinkInfo> {
  const { stdout } = await run("ip", ["-n", namespace, "-j", "-d", "link", "show", "dev", device]);
  const link = (JSON.parse(stdout) as IpLink[])[0];
  if (link === undefined) throw new Error(`ip printed no link for ${device} in ${namespace}`);
  return {
    name: link.ifname,
    mac: link.address,
    mtu: link.mtu,
    up: link.flags.includes("UP"),
    vni: link.linkinfo?.info_kind === "vxlan" ? (link.linkinfo.info_data?.id ?? null) : null,
  };
}

/** The IPv4 addresses on a device (empty when the device does not exist). */
export async function ipv4Addresses(namespace: string, device = "eth0"): Promise<InterfaceAddress[]> {
  const result = await runResult("ip", ["-n", namespace, "-j", "-4", "addr", "show", "dev", device]);
  if (result.code !== 0 || result.stdout.trim() === "") return [];
  return (JSON.parse(result.stdout) as IpAddr[]).flatMap((a) =>
    a.addr_info.filter((i) => i.family === "inet").map((i) => ({ address: i.local, prefixLen: i.prefixlen })),
  );
}

export async function setLinkState(namespace: string, state: "up" | "down", device = "eth0"): Promise<void> {
  await run("ip", ["-n", namespace, "link", "set", device, state]);
}

/** Whether TX checksum offload is on (ethtool -k, "tx-checksumming"). */
export async function txChecksumOffload(namespace: string, device = "eth0"): Promise<boolean> {
  const { stdout } = await runIn(namespace, "ethtool", ["-k", device]);
  const match = /^tx-checksumming:\s+(on|off)/m.exec(stdout);
  if (match === null) throw new Error(`ethtool -k ${device} printed no tx-checksumming line`);
  return match[1] === "on";
}
