// keepalived.conf for one instance, generated from a typed description. Every value is checked before it is
// written, so the text is well-formed by construction (no value can open a block or start a new keyword).
import { invalid, requireInteger, requireIpv4 } from "./addressing.ts";

export interface VirtualAddress {
  address: string;
  prefixLen: number;
  /** Default "eth0". */
  device?: string;
}

export interface VrrpInstance {
  /** The vrrp_instance block's name, e.g. "VI_1". */
  name: string;
  /** Default "eth0". */
  interface?: string;
  version: 2 | 3;
  virtualRouterId: number;
  /** 1–254 (255 means "address owner" and needs the VIP as a real address). */
  priority: number;
  /** Seconds: v2 a whole number 1–255; v3 0.01–40.95 in steps of 0.01. */
  advertInterval: number;
  /** The initial state; keepalived then elects. Default "BACKUP". */
  state?: "MASTER" | "BACKUP";
  /** Do not take over from a lower-priority master (keepalived needs the initial state BACKUP for this). */
  nopreempt?: boolean;
  /** Unicast peers instead of multicast to 224.0.0.18 (needed where the subnet carries no multicast). */
  unicast?: { sourceIp: string; peers: string[] };
  virtualAddresses: VirtualAddress[];
  /** Seconds after becoming master before the second burst of gratuitous ARPs (0 turns it off). */
  garpMasterDelay?: number;
  /** Seconds between gratuitous ARP refreshes while master (0, keepalived's default, turns them off). */
  garpMasterRefresh?: number;
  /** VRRPv2 simple password (1–8 characters); VRRPv3 has no authentication. */
  authPass?: string;
}

export interface KeepalivedConfig {
  /** global_defs router_id; default the first instance's name. */
  routerId?: string;
  instances: VrrpInstance[];
}

const TOKEN = /^[A-Za-z0-9_.-]{1,32}$/;
const DEVICE = /^[A-Za-z0-9_.-]{1,15}$/;
// Printable, no spaces, and none of what keepalived's parser treats specially: braces, quotes, comments.
const PASSWORD = /^(?![^]*[{}"'#!\\])[\x21-\x7e]{1,8}$/;

function requireToken(what: string, value: string, pattern = TOKEN): void {
  if (!pattern.test(value)) throw invalid(`keepalived ${what} '${value}' must match ${String(pattern)}`);
}

/** Checks a configuration; throws Lab.InvalidParameter naming the first problem. */
export function checkKeepalivedConfig(config: KeepalivedConfig): void {
  if (config.routerId !== undefined) requireToken("router_id", config.routerId);
  if (config.instances.length === 0) throw invalid("keepalived config needs at least one vrrp_instance");
  const names = new Set<string>();
  for (const vi of config.instances) {
    requireToken("vrrp_instance name", vi.name);
    if (names.has(vi.name)) throw invalid(`keepalived vrrp_instance '${vi.name}' appears twice`);
    names.add(vi.name);
    checkInstance(vi);
  }
}

function checkInstance(vi: VrrpInstance): void {
  const where = `vrrp_instance ${vi.name}:`;
  requireToken(`${where} interface`, vi.interface ?? "eth0", DEVICE);
  // Checked at run time too: a configuration may come from JSON rather than from typed code.
  if (!([2, 3] as unknown[]).includes(vi.version)) throw invalid(`${where} version must be 2 or 3`);
  requireInteger(`${where} virtual_router_id`, vi.virtualRouterId, 1, 255);
  requireInteger(`${where} priority`, vi.priority, 1, 254);
  if (vi.version === 2) {
    requireInteger(`${where} advert_int (VRRPv2, seconds)`, vi.advertInterval, 1, 255);
  } else {
    const centiseconds = Math.round(vi.advertInterval * 100);
    if (Math.abs(centiseconds - vi.advertInterval * 100) > 1e-6 || centiseconds < 1 || centiseconds > 4095) {
      throw invalid(`${where} advert_int (VRRPv3) must be 0.01–40.95 s in steps of 0.01, not ${vi.advertInterval}`);
    }
  }
  if (vi.nopreempt === true && vi.state === "MASTER") {
    throw invalid(`${where} nopreempt needs the initial state BACKUP (keepalived ignores it with MASTER)`);
  }
  if (vi.unicast !== undefined) {
    requireIpv4(`${where} unicast_src_ip`, vi.unicast.sourceIp);
    if (vi.unicast.peers.length === 0) throw invalid(`${where} unicast needs at least one peer`);
    for (const peer of vi.unicast.peers) {
      requireIpv4(`${where} unicast_peer`, peer);
      if (peer === vi.unicast.sourceIp) throw invalid(`${where} unicast_peer ${peer} is the source address`);
    }
  }
  if (vi.virtualAddresses.length === 0) throw invalid(`${where} needs at least one virtual address`);
  for (const va of vi.virtualAddresses) {
    requireIpv4(`${where} virtual address`, va.address);
    requireInteger(`${where} virtual address prefix length`, va.prefixLen, 1, 32);
    requireToken(`${where} virtual address device`, va.device ?? "eth0", DEVICE);
  }
  if (vi.garpMasterDelay !== undefined) requireInteger(`${where} garp_master_delay`, vi.garpMasterDelay, 0, 255);
  if (vi.garpMasterRefresh !== undefined) {
    requireInteger(`${where} garp_master_refresh`, vi.garpMasterRefresh, 0, 86400);
  }
  if (vi.authPass !== undefined) {
    if (vi.version !== 2) throw invalid(`${where} authentication exists only in VRRPv2`);
    if (!PASSWORD.test(vi.authPass))
      throw invalid(`${where} auth_pass must be 1–8 printable characters without spaces, braces, quotes, # or !`);
  }
}

/** The text of keepalived.conf. Throws Lab.InvalidParameter when the configuration is not valid. */
export function renderKeepalivedConfig(config: KeepalivedConfig): string {
  checkKeepalivedConfig(config);
  const lines = ["# Generated by the havip lab.", "global_defs {"];
  lines.push(`  router_id ${config.routerId ?? config.instances[0]?.name ?? "havip"}`);
  lines.push("}");
  for (const vi of config.instances) lines.push("", ...renderInstance(vi));
  return lines.join("\n") + "\n";
}

function renderInstance(vi: VrrpInstance): string[] {
  const out = [`vrrp_instance ${vi.name} {`];
  const add = (line: string) => out.push(`  ${line}`);
  add(`state ${vi.state ?? "BACKUP"}`);
  add(`interface ${vi.interface ?? "eth0"}`);
  add(`version ${vi.version}`);
  add(`virtual_router_id ${vi.virtualRouterId}`);
  add(`priority ${vi.priority}`);
  add(`advert_int ${formatInterval(vi.advertInterval)}`);
  if (vi.nopreempt === true) add("nopreempt");
  if (vi.unicast !== undefined) {
    add(`unicast_src_ip ${vi.unicast.sourceIp}`);
    add("unicast_peer {");
    for (const peer of vi.unicast.peers) add(`  ${peer}`);
    add("}");
  }
  if (vi.garpMasterDelay !== undefined) add(`garp_master_delay ${vi.garpMasterDelay}`);
  if (vi.garpMasterRefresh !== undefined) add(`garp_master_refresh ${vi.garpMasterRefresh}`);
  if (vi.authPass !== undefined) {
    add("authentication {");
    add("  auth_type PASS");
    add(`  auth_pass ${vi.authPass}`);
    add("}");
  }
  add("virtual_ipaddress {");
  for (const va of vi.virtualAddresses) add(`  ${va.address}/${va.prefixLen} dev ${va.device ?? "eth0"}`);
  add("}");
  out.push("}");
  return out;
}

function formatInterval(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : (Math.round(seconds * 100) / 100).toFixed(2).replace(/0$/, "");
}
