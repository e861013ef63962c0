// Stage 1, ingress checks: well-formed frames only, and anti-spoofing (DESIGN §2.7): a vNIC sends only from
// its MAC, and only from its IP or a HAVIP it may claim; packets sourced from a HAVIP by any vNIC other than
// the holder are dropped (§2.4, fencing of a stale holder). Each check drops with a reason and returns false.
import {
  ARP_OP,
  ARP_OPER,
  ARP_SHA,
  ARP_SPA,
  ARP_TPA,
  ETH_HEADER_LEN,
  ETHERTYPE,
  checkArp,
  checkIpv4,
  ipv4HeaderLen,
  readIpv4,
  readMac,
} from "@havip/wire";
import { dropCode } from "../reasons.ts";
import type { PipelineState } from "../state.ts";
import { ENTRY, type VnicEntry } from "../tables.ts";
import { denyClaim } from "./announce.ts";
import { verifyTransport } from "./transport.ts";

const MALFORMED = dropCode("malformed");
const BAD_CHECKSUM = dropCode("bad-checksum");
const VLAN_TAGGED = dropCode("vlan-tagged");
const UNSUPPORTED_ETHERTYPE = dropCode("unsupported-ethertype");
const SPOOFED_MAC = dropCode("spoofed-source-mac");
const SPOOFED_IP = dropCode("spoofed-source-ip");
const FENCED = dropCode("fenced-stale-holder");

/** Reads the Ethernet header into the context; false (dropped) when truncated, tagged or of another type. */
export function checkEthernet(s: PipelineState): boolean {
  const buf = s.buf;
  if (s.len < ETH_HEADER_LEN) {
    s.drop(MALFORMED, "truncated");
    return false;
  }
  s.dstMac = readMac(buf, 0);
  s.srcMac = readMac(buf, 6);
  const type = (buf[12]! << 8) | buf[13]!;
  if (type === ETHERTYPE.IPV4 || type === ETHERTYPE.ARP) return true;
  s.drop(type === ETHERTYPE.VLAN ? VLAN_TAGGED : UNSUPPORTED_ETHERTYPE);
  return false;
}

export function isArpFrame(s: PipelineState): boolean {
  return s.buf[12] === 0x08 && s.buf[13] === 0x06;
}

/** Ethernet source of a frame from a vNIC: its own MAC only. */
export function checkVnicSourceMac(s: PipelineState, vnic: VnicEntry): boolean {
  if (s.srcMac === vnic.mac) return true;
  noteSpoofedAnnouncement(s, vnic);
  s.drop(SPOOFED_MAC);
  return false;
}

/**
 * An ARP frame from a vNIC: well-formed, sender MAC = the vNIC's MAC, sender IP = 0.0.0.0 (a probe), its own IP,
 * or a HAVIP of its VPC (whether it may claim it is the announcement stage's decision, which counts denials
 * per HAVIP).
 */
export function checkVnicArp(s: PipelineState, vnic: VnicEntry): boolean {
  const buf = s.buf;
  const err = checkArp(buf, ETH_HEADER_LEN, s.len - ETH_HEADER_LEN);
  if (err !== undefined) {
    s.drop(MALFORMED, err.wireError);
    return false;
  }
  const op = (buf[ETH_HEADER_LEN + ARP_OPER]! << 8) | buf[ETH_HEADER_LEN + ARP_OPER + 1]!;
  if (op !== ARP_OP.REQUEST && op !== ARP_OP.REPLY) {
    s.drop(MALFORMED, "unsupported");
    return false;
  }
  if (readMac(buf, ETH_HEADER_LEN + ARP_SHA) !== vnic.mac) {
    noteSpoofedAnnouncement(s, vnic);
    s.drop(SPOOFED_MAC);
    return false;
  }
  const spa = readIpv4(buf, ETH_HEADER_LEN + ARP_SPA);
  if (spa === 0 || spa === vnic.ip) return true;
  const e = vnic.vpc.l3.get(spa | 0);
  if (e !== undefined && e.kind === ENTRY.HAVIP) return true;
  s.drop(SPOOFED_IP);
  return false;
}

/**
 * The IPv4 header (and, when configured, the transport checksum) of a frame from any port. Fills the context's
 * IP fields.
 */
export function checkIpv4Packet(s: PipelineState): boolean {
  const buf = s.buf;
  const off = ETH_HEADER_LEN;
  const err = checkIpv4(buf, off, s.len - off);
  if (err !== undefined) {
    s.drop(err.wireError === "bad-checksum" ? BAD_CHECKSUM : MALFORMED, err.wireError);
    return false;
  }
  s.ipOff = off;
  s.ipHeaderLen = ipv4HeaderLen(buf, off);
  s.ipTotalLen = (buf[off + 2]! << 8) | buf[off + 3]!;
  s.proto = buf[off + 9]!;
  s.srcIp = readIpv4(buf, off + 12);
  s.dstIp = readIpv4(buf, off + 16);
  if (!s.config.verifyTransportChecksums) return true;
  // Addresses pass as int32 (`| 0`): a uint32 above 2^31 would be boxed on a call that is not inlined.
  const code = verifyTransport(buf, off, s.ipHeaderLen, s.ipTotalLen, s.proto, s.srcIp | 0, s.dstIp | 0);
  if (code === 0) return true;
  s.drop(code === 1 ? MALFORMED : BAD_CHECKSUM, code === 1 ? "truncated" : "bad-checksum");
  return false;
}

/** The IPv4 source of a packet from a vNIC: its IP, or a HAVIP it currently holds. */
export function checkVnicSourceIp(s: PipelineState, vnic: VnicEntry): boolean {
  const src = s.srcIp;
  if (src === vnic.ip) return true;
  const e = vnic.vpc.l3.get(src | 0);
  if (e !== undefined && e.kind === ENTRY.HAVIP) {
    if (e.holder === vnic) return true;
    if (e.mayClaim(vnic)) {
      e.runtime.stats.fenced++;
      s.drop(FENCED);
      return false;
    }
  }
  s.drop(SPOOFED_IP);
  return false;
}

/**
 * A frame with a spoofed MAC that is shaped like an announcement for a HAVIP of the sender's VPC also counts as
 * a denied claim of that HAVIP (so that operators see who tried). Never looks outside the sender's VPC.
 */
function noteSpoofedAnnouncement(s: PipelineState, vnic: VnicEntry): void {
  const buf = s.buf;
  if (!isArpFrame(s) || checkArp(buf, ETH_HEADER_LEN, s.len - ETH_HEADER_LEN) !== undefined) return;
  const op = (buf[ETH_HEADER_LEN + ARP_OPER]! << 8) | buf[ETH_HEADER_LEN + ARP_OPER + 1]!;
  const spa = readIpv4(buf, ETH_HEADER_LEN + ARP_SPA);
  const tpa = readIpv4(buf, ETH_HEADER_LEN + ARP_TPA);
  if (op !== ARP_OP.REPLY && !(op === ARP_OP.REQUEST && spa === tpa)) return;
  const e = vnic.vpc.l3.get(spa | 0);
  if (e !== undefined && e.kind === ENTRY.HAVIP) denyClaim(s, e, vnic, "spoofed-source-mac");
}
