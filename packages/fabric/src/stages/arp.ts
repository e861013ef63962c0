// Stage 2, ARP. From a vNIC: announcements for a HAVIP go to the announcement stage (and, when accepted and
// broadcast, are flooded with the HAVIP's virtual MAC as sender); requests are answered by the fabric for the
// gateway, the vNICs of the subnet and a HAVIP that has a holder (with its virtual MAC); requests for unknown
// addresses are dropped, never flooded (DESIGN §2.5–2.6). On the internet port the fabric is a router: it
// answers for its own address and every EIP, and learns its neighbours from the ARP it sees.
import {
  ARP_OP,
  ARP_OPER,
  ARP_SHA,
  ARP_SPA,
  ARP_TPA,
  BROADCAST_MAC,
  ETH_HEADER_LEN,
  checkArp,
  readIpv4,
  readMac,
  writeIpv4,
  writeMac,
} from "@havip/wire";
import { VERDICT } from "../actions.ts";
import { prefixContains } from "../cidr.ts";
import { dropCode } from "../reasons.ts";
import { copyFrame, type PipelineState } from "../state.ts";
import { ENTRY, type HaVipEntry, type InternetTable, type VnicEntry } from "../tables.ts";
import { CLAIM, announce } from "./announce.ts";
import { flood, mayFlood } from "./flood.ts";

const MALFORMED = dropCode("malformed");
const SPOOFED_MAC = dropCode("spoofed-source-mac");
const SPOOFED_IP = dropCode("spoofed-source-ip");
const FENCED = dropCode("fenced-stale-holder");
const UNKNOWN_TARGET = dropCode("arp-unknown-target");
const OWN_ADDRESS = dropCode("arp-own-address");
const REPLY_UNEXPECTED = dropCode("arp-reply-unexpected");
const NO_HOLDER = dropCode("havip-no-holder");

const A = ETH_HEADER_LEN;
export const ARP_FRAME_LEN = ETH_HEADER_LEN + 28;

function arpOp(buf: Uint8Array): number {
  return (buf[A + ARP_OPER]! << 8) | buf[A + ARP_OPER + 1]!;
}

/** An ARP frame from `vnic` that passed the ingress checks. */
export function arpFromVnic(s: PipelineState, vnic: VnicEntry): void {
  const buf = s.buf;
  const op = arpOp(buf);
  const spa = readIpv4(buf, A + ARP_SPA);
  const tpa = readIpv4(buf, A + ARP_TPA);
  const broadcast = (buf[0]! & 1) === 1;

  if (spa !== 0 && spa !== vnic.ip) {
    // Ingress let it through: the sender address is a HAVIP of the vNIC's VPC.
    const havip = vnic.vpc.l3.get(spa | 0) as HaVipEntry;
    if (op === ARP_OP.REPLY && tpa === vnic.subnet.gatewayIp) {
      // An answer to the fabric's probe ("who has the HAVIP?", asked from the gateway address): the vNIC has the
      // address. Verification weighs it; it is no announcement and goes nowhere.
      if (havip.mayClaim(vnic)) {
        recordProbeAnswer(havip, vnic);
        s.out.verdict = VERDICT.CONSUMED;
      } else {
        s.drop(SPOOFED_IP);
      }
      return;
    }
    if (op === ARP_OP.REPLY && !broadcast && spa === tpa) {
      // A unicast reply to a gratuitous ARP for the HAVIP: a host that still has the address configured (a
      // former holder whose keepalived has not yet stepped down) answering the new holder's flooded
      // announcement. An answer, not an announcement: taking it would hand the address back for a moment.
      if (havip.holder === vnic) s.out.verdict = VERDICT.CONSUMED;
      else notHolder(s, havip, vnic);
      return;
    }
    if (op === ARP_OP.REPLY || spa === tpa) {
      announcement(s, havip, vnic, broadcast);
      return;
    }
    // An ordinary request sourced from the HAVIP: the holder resolving a neighbour. Nobody else (§2.4).
    if (havip.holder !== vnic) {
      notHolder(s, havip, vnic);
      return;
    }
  } else if (op === ARP_OP.REPLY || (spa === tpa && spa !== 0)) {
    // A gratuitous ARP for the vNIC's own address: broadcast goes to the domain like any broadcast.
    if (!broadcast && spa !== tpa) s.drop(REPLY_UNEXPECTED);
    else if (!broadcast) s.out.verdict = VERDICT.CONSUMED;
    else if (mayFlood(s, vnic)) flood(s, vnic, buf, s.len);
    return;
  }
  if (op === ARP_OP.REPLY) {
    s.drop(REPLY_UNEXPECTED);
    return;
  }
  answerVnicRequest(s, vnic, spa, tpa);
}

/** Records a probe answer: `vnic` (which may claim `havip`) has the address. Late or unasked answers change nothing. */
function recordProbeAnswer(havip: HaVipEntry, vnic: VnicEntry): void {
  const probe = havip.runtime.probe;
  if (probe === null) return;
  havip.runtime.stats.probeAnswers++;
  probe.answered.add(vnic.id);
}

/** Drops a non-announcement ARP frame sourced from `havip` by a vNIC that does not hold it (§2.4). */
function notHolder(s: PipelineState, havip: HaVipEntry, vnic: VnicEntry): void {
  if (havip.mayClaim(vnic)) {
    havip.runtime.stats.fenced++;
    s.drop(FENCED);
  } else {
    s.drop(SPOOFED_IP);
  }
}

function announcement(s: PipelineState, havip: HaVipEntry, vnic: VnicEntry, broadcast: boolean): void {
  if (announce(s, havip, vnic) === CLAIM.DENIED) return;
  if (!broadcast || !havip.subnet.carriesBroadcast || !vnic.inDomain) {
    s.out.verdict = VERDICT.CONSUMED;
    return;
  }
  // Flooded with the HAVIP's virtual MAC as sender, so that caches never point at a vNIC (§2.5).
  const out = s.frameOut;
  copyFrame(s.buf, s.len, out);
  writeMac(out, 6, havip.mac);
  writeMac(out, A + ARP_SHA, havip.mac);
  flood(s, vnic, out, s.len);
}

function answerVnicRequest(s: PipelineState, vnic: VnicEntry, spa: number, tpa: number): void {
  const e = vnic.vpc.l3.get(tpa | 0);
  if (e === undefined) {
    s.drop(UNKNOWN_TARGET);
    return;
  }
  let mac: number;
  switch (e.kind) {
    case ENTRY.GATEWAY:
      if (e !== vnic.subnet) {
        s.drop(UNKNOWN_TARGET);
        return;
      }
      mac = s.tables.routerMac;
      break;
    case ENTRY.VNIC:
      if (e === vnic) {
        // Never answer for the requester's own address: that would be a false address conflict.
        s.drop(OWN_ADDRESS);
        return;
      }
      if (e.subnet !== vnic.subnet) {
        s.drop(UNKNOWN_TARGET);
        return;
      }
      mac = e.mac;
      break;
    case ENTRY.HAVIP:
      if (e.subnet !== vnic.subnet) {
        s.drop(UNKNOWN_TARGET);
        return;
      }
      if (e.holder === null) {
        s.drop(NO_HOLDER);
        return;
      }
      if (e.holder === vnic) {
        s.drop(OWN_ADDRESS);
        return;
      }
      mac = e.mac;
      break;
  }
  const len = writeArpFrame(s.controlOut, ARP_OP.REPLY, vnic.mac, mac, tpa, vnic.mac, spa);
  s.out.send(s.inPort, s.controlOut, len);
  s.out.verdict = VERDICT.REPLIED;
}

/** An ARP frame arriving on the internet port. */
export function arpFromInternet(s: PipelineState, inet: InternetTable): void {
  const buf = s.buf;
  const err = checkArp(buf, A, s.len - A);
  if (err !== undefined) {
    s.drop(MALFORMED, err.wireError);
    return;
  }
  const op = arpOp(buf);
  if (op !== ARP_OP.REQUEST && op !== ARP_OP.REPLY) {
    s.drop(MALFORMED, "unsupported");
    return;
  }
  const sha = readMac(buf, A + ARP_SHA);
  if ((buf[6]! & 1) === 1 || (buf[A + ARP_SHA]! & 1) === 1) {
    s.drop(SPOOFED_MAC);
    return;
  }
  const spa = readIpv4(buf, A + ARP_SPA);
  const tpa = readIpv4(buf, A + ARP_TPA);
  if (spa !== 0 && prefixContains(inet.prefix, spa)) s.neighbours.learn(spa, sha);
  if (op === ARP_OP.REPLY || spa === tpa) {
    s.out.verdict = VERDICT.CONSUMED;
    return;
  }
  if (tpa !== inet.ip && !s.tables.eipByPublic.has(tpa | 0)) {
    s.drop(UNKNOWN_TARGET);
    return;
  }
  const len = writeArpFrame(s.controlOut, ARP_OP.REPLY, sha, inet.mac, tpa, sha, spa);
  s.out.send(s.inPort, s.controlOut, len);
  s.out.verdict = VERDICT.REPLIED;
}

/** Queues an ARP request from the fabric's internet address for `ip` (next-hop resolution). */
export function requestNeighbour(s: PipelineState, inet: InternetTable, ip: number): void {
  const len = writeArpFrame(s.controlOut, ARP_OP.REQUEST, BROADCAST_MAC, inet.mac, inet.ip, 0, ip);
  s.out.send(s.internetPort, s.controlOut, len);
  s.counters.arpRequestsSent++;
}

/** Writes an Ethernet + ARP frame (sender hardware address = Ethernet source) and returns its length. */
export function writeArpFrame(
  out: Uint8Array,
  op: number,
  dstMac: number,
  senderMac: number,
  senderIp: number,
  targetMac: number,
  targetIp: number,
): number {
  writeMac(out, 0, dstMac);
  writeMac(out, 6, senderMac);
  out[12] = 0x08;
  out[13] = 0x06;
  out[A] = 0;
  out[A + 1] = 1; // hardware type: Ethernet
  out[A + 2] = 0x08;
  out[A + 3] = 0x00; // protocol type: IPv4
  out[A + 4] = 6;
  out[A + 5] = 4;
  out[A + ARP_OPER] = 0;
  out[A + ARP_OPER + 1] = op;
  writeMac(out, A + ARP_SHA, senderMac);
  writeIpv4(out, A + ARP_SPA, senderIp);
  writeMac(out, A + 18, targetMac);
  writeIpv4(out, A + ARP_TPA, targetIp);
  return ARP_FRAME_LEN;
}
