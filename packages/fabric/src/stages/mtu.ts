// The MTU: a VPC carries IP packets up to its MTU (1500 unless the spec says otherwise; clouds offer jumbo
// frames up to 8950), the internet edge up to its own (1500). A bigger packet is dropped (`too-big`); the
// fabric never fragments. Where a packet fits its VPC but not the next hop and its DF bit is set, the fabric
// tells the sender as a router does for path MTU discovery (RFC 1191): ICMP "fragmentation needed" (type 3,
// code 4) carrying the next-hop MTU.
import {
  ETH_HEADER_LEN,
  ETHERTYPE,
  ICMP_TYPE,
  IPPROTO,
  emitEthernet,
  emitIcmpError,
  emitIpv4,
  isIcmpError,
} from "@havip/wire";
import { dropCode } from "../reasons.ts";
import type { PipelineState } from "../state.ts";
import type { VnicEntry } from "../tables.ts";

const TOO_BIG = dropCode("too-big");

const FRAGMENTATION_NEEDED = 4;
/** An ICMP error carries as much of the packet as fits in 576 bytes (RFC 1812 4.3.2.3). */
const ICMP_ERROR_MAX_IP_LEN = 576;
const IP_HEADER_LEN = 20;
const ICMP_ERROR_HEADER_LEN = 8;
const REPLY_TTL = 64;

/** The IP packet of the frame being processed: everything after the Ethernet header. */
function packetLen(s: PipelineState): number {
  return s.len - ETH_HEADER_LEN;
}

/** A frame from a vNIC fits its VPC's MTU; otherwise it is dropped (`too-big`). */
export function checkVnicMtu(s: PipelineState, vnic: VnicEntry): boolean {
  if (packetLen(s) <= vnic.vpc.mtu) return true;
  s.drop(TOO_BIG);
  return false;
}

/**
 * Whether the IPv4 packet being processed fits a next hop of `mtu`. When not, drops it (`too-big`) and, if its
 * DF bit is set, answers the sender with ICMP fragmentation needed: from `routerIp` (the router's address on
 * the sender's side) and `routerMac`, back out of the port the packet came in on.
 */
export function fitsNextHop(s: PipelineState, mtu: number, routerIp: number, routerMac: number): boolean {
  if (packetLen(s) <= mtu) return true;
  s.drop(TOO_BIG);
  if (mayAnswer(s)) answerFragmentationNeeded(s, mtu, routerIp, routerMac);
  return false;
}

/** DF set, a first fragment (or whole packet), not itself an ICMP error, from a unicast host (RFC 1812 4.3.2.7). */
function mayAnswer(s: PipelineState): boolean {
  const buf = s.buf;
  const ip = s.ipOff;
  if ((buf[ip + 6]! & 0x40) === 0) return false;
  if ((buf[ip + 6]! & 0x1f) !== 0 || buf[ip + 7] !== 0) return false;
  if (s.proto === IPPROTO.ICMP) {
    const l4 = ip + s.ipHeaderLen;
    if (s.ipTotalLen <= s.ipHeaderLen || isIcmpError(buf[l4]!)) return false;
  }
  const first = s.srcIp >>> 24;
  return first !== 0 && first !== 127 && first < 224 && (s.buf[6]! & 1) === 0;
}

function answerFragmentationNeeded(s: PipelineState, mtu: number, routerIp: number, routerMac: number): void {
  const out = s.frameOut;
  const embeddedLen = Math.min(s.ipTotalLen, ICMP_ERROR_MAX_IP_LEN - IP_HEADER_LEN - ICMP_ERROR_HEADER_LEN);
  const icmpOff = ETH_HEADER_LEN + IP_HEADER_LEN;
  emitEthernet({ dst: s.srcMac, src: routerMac, ethertype: ETHERTYPE.IPV4 }, out, 0);
  const icmpLen = emitIcmpError(
    {
      type: ICMP_TYPE.DEST_UNREACHABLE,
      code: FRAGMENTATION_NEEDED,
      restOfHeader: mtu & 0xffff, // unused (16 bits), next-hop MTU (16 bits)
      embedded: s.buf.subarray(s.ipOff, s.ipOff + embeddedLen),
    },
    out,
    icmpOff,
  );
  emitIpv4(
    { src: routerIp, dst: s.srcIp, protocol: IPPROTO.ICMP, ttl: REPLY_TTL, payloadLen: icmpLen },
    out,
    ETH_HEADER_LEN,
  );
  s.out.send(s.inPort, out, icmpOff + icmpLen);
}
