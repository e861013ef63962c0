// Stage 5, switching and routing. From a vNIC: to a vNIC MAC of its subnet → that vNIC; to a HAVIP's virtual MAC
// → the holder, destination MAC rewritten (§2.5); to the router MAC → routed by destination IP inside the VPC
// (TTL and checksum updated) or, leaving the VPC, translated to the source's EIP and sent to the internet port
// (§2.8); anything else is dropped with a reason. From the internet port: EIP traffic translated to the private
// address and delivered (a HAVIP's EIP to the current holder). A packet bigger than the next hop's MTU (the
// internet side's, or the VPC's when coming in) is dropped as `too-big`, answered for PMTUD (mtu.ts).
import { ETH_HEADER_LEN, checksumAdjust16, writeMac } from "@havip/wire";
import { VERDICT } from "../actions.ts";
import { prefixContains } from "../cidr.ts";
import { dropCode } from "../reasons.ts";
import { copyFrame, type PipelineState } from "../state.ts";
import { ENTRY, lookupL2, type InternetTable, type VnicEntry } from "../tables.ts";
import { requestNeighbour } from "./arp.ts";
import { fitsNextHop } from "./mtu.ts";
import { translateDestination, translateSource } from "./nat.ts";

const NO_HOLDER = dropCode("havip-no-holder");
const UNKNOWN_DST_MAC = dropCode("unknown-destination-mac");
const TTL_EXCEEDED = dropCode("ttl-exceeded");
const NO_ROUTE = dropCode("no-route");
const TO_ROUTER = dropCode("to-router");
const PORT_NOT_ATTACHED = dropCode("port-not-attached");
const NO_EIP = dropCode("no-eip");
const EIP_UNBOUND = dropCode("eip-unbound");
const NEIGHBOUR_UNRESOLVED = dropCode("neighbour-unresolved");

const IP = ETH_HEADER_LEN;

/** A unicast IPv4 frame from `vnic` that passed the ingress checks. */
export function forwardFromVnic(s: PipelineState, vnic: VnicEntry): void {
  if (s.dstMac === s.tables.routerMac) {
    route(s, vnic);
    return;
  }
  const e = lookupL2(vnic.vpc, s.dstMac);
  if (e === undefined || e.subnet !== vnic.subnet) {
    s.drop(UNKNOWN_DST_MAC);
    return;
  }
  if (e.kind === ENTRY.VNIC) {
    // Switched as is: the input buffer goes out untouched.
    if (e.portIndex < 0) {
      s.drop(PORT_NOT_ATTACHED);
      return;
    }
    s.out.send(e.portIndex, s.buf, s.len);
    s.out.verdict = VERDICT.FORWARDED;
    return;
  }
  const holder = e.holder;
  if (holder === null) {
    s.drop(NO_HOLDER);
    return;
  }
  if (holder.portIndex < 0) {
    s.drop(PORT_NOT_ATTACHED);
    return;
  }
  const out = s.frameOut;
  copyFrame(s.buf, s.len, out);
  writeMac(out, 0, holder.mac);
  e.runtime.stats.delivered++;
  s.out.send(holder.portIndex, out, s.len);
  s.out.verdict = VERDICT.FORWARDED;
}

function route(s: PipelineState, vnic: VnicEntry): void {
  const dst = s.dstIp;
  const vpc = vnic.vpc;
  // Multicast, limited broadcast, 0/8 and loopback are never routed.
  const first = dst >>> 24;
  if (first >= 224 || first === 0 || first === 127) {
    s.drop(NO_ROUTE);
    return;
  }
  if (!prefixContains(vpc.prefix, dst)) {
    toInternet(s, vnic);
    return;
  }
  const e = vpc.l3.get(dst | 0);
  if (e === undefined) {
    s.drop(NO_ROUTE);
    return;
  }
  let target: VnicEntry;
  if (e.kind === ENTRY.VNIC) {
    target = e;
  } else if (e.kind === ENTRY.HAVIP) {
    if (e.holder === null) {
      s.drop(NO_HOLDER);
      return;
    }
    target = e.holder;
  } else {
    s.drop(TO_ROUTER);
    return;
  }
  if (target.portIndex < 0) {
    s.drop(PORT_NOT_ATTACHED);
    return;
  }
  if (!ttlAllowsHop(s)) return;
  if (e.kind === ENTRY.HAVIP) e.runtime.stats.delivered++;
  const out = s.frameOut;
  copyFrame(s.buf, s.len, out);
  writeMac(out, 0, target.mac);
  writeMac(out, 6, s.tables.routerMac);
  decrementTtl(out);
  s.out.send(target.portIndex, out, s.len);
  s.out.verdict = VERDICT.FORWARDED;
}

function toInternet(s: PipelineState, vnic: VnicEntry): void {
  const inet = s.tables.internet;
  if (inet === null || s.internetPort < 0) {
    s.drop(NO_ROUTE);
    return;
  }
  // The source was checked at ingress: the vNIC's own address, or a HAVIP it holds.
  const eip = vnic.vpc.eipByPrivate.get(s.srcIp | 0);
  if (eip === undefined) {
    s.drop(NO_EIP);
    return;
  }
  const dst = s.dstIp;
  const nextHop = prefixContains(inet.prefix, dst) ? dst : inet.gateway;
  if (nextHop === 0) {
    s.drop(NO_ROUTE);
    return;
  }
  if (!ttlAllowsHop(s)) return;
  // The VPC may carry jumbo frames; the internet side does not.
  if (!fitsNextHop(s, inet.mtu, vnic.subnet.gatewayIp, s.tables.routerMac)) return;
  const mac = s.neighbours.lookup(nextHop);
  if (mac < 0) {
    unresolved(s, inet, nextHop);
    return;
  }
  const out = s.frameOut;
  copyFrame(s.buf, s.len, out);
  writeMac(out, 0, mac);
  writeMac(out, 6, inet.mac);
  decrementTtl(out);
  translateSource(out, IP, eip.publicIp | 0);
  s.counters.natOutbound++;
  s.out.send(s.internetPort, out, s.len);
  s.out.verdict = VERDICT.FORWARDED;
}

function unresolved(s: PipelineState, inet: InternetTable, nextHop: number): void {
  s.drop(NEIGHBOUR_UNRESOLVED);
  if (s.neighbours.shouldAsk(nextHop, s.now(), s.config.neighbourRequestIntervalMs)) {
    requestNeighbour(s, inet, nextHop);
  }
}

/** A unicast IPv4 frame from the internet port that passed the ingress checks. */
export function forwardFromInternet(s: PipelineState, inet: InternetTable): void {
  if (s.dstMac !== inet.mac) {
    s.drop(UNKNOWN_DST_MAC);
    return;
  }
  const eip = s.tables.eipByPublic.get(s.dstIp | 0);
  if (eip === undefined) {
    s.drop(s.dstIp === inet.ip ? TO_ROUTER : NO_ROUTE);
    return;
  }
  const t = eip.target;
  if (t === null) {
    s.drop(EIP_UNBOUND);
    return;
  }
  let target: VnicEntry;
  if (t.kind === ENTRY.HAVIP) {
    if (t.holder === null) {
      s.drop(NO_HOLDER);
      return;
    }
    target = t.holder;
  } else {
    target = t;
  }
  if (target.portIndex < 0) {
    s.drop(PORT_NOT_ATTACHED);
    return;
  }
  if (!ttlAllowsHop(s)) return;
  // A VPC may have a smaller MTU than the internet side.
  if (!fitsNextHop(s, target.vpc.mtu, inet.ip, inet.mac)) return;
  if (t.kind === ENTRY.HAVIP) t.runtime.stats.delivered++;
  const out = s.frameOut;
  copyFrame(s.buf, s.len, out);
  writeMac(out, 0, target.mac);
  writeMac(out, 6, s.tables.routerMac);
  decrementTtl(out);
  translateDestination(out, IP, eip.privateIp | 0);
  s.counters.natInbound++;
  s.out.send(target.portIndex, out, s.len);
  s.out.verdict = VERDICT.FORWARDED;
}

function ttlAllowsHop(s: PipelineState): boolean {
  if (s.buf[IP + 8]! > 1) return true;
  s.drop(TTL_EXCEEDED);
  return false;
}

/** Decrements the TTL and updates the header checksum incrementally (the TTL shares a word with the protocol). */
export function decrementTtl(buf: Uint8Array): void {
  const ttl = buf[IP + 8]!;
  const proto = buf[IP + 9]!;
  const csum = (buf[IP + 10]! << 8) | buf[IP + 11]!;
  const next = checksumAdjust16(csum, (ttl << 8) | proto, ((ttl - 1) << 8) | proto);
  buf[IP + 8] = ttl - 1;
  buf[IP + 10] = next >>> 8;
  buf[IP + 11] = next & 0xff;
}
