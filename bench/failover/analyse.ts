// Reads the client's capture of a failover run: per failover, when the new holder's gratuitous ARP reached the
// client, the first probe answered by the new holder, the last one from the old holder, and the API's view. Pure:
// the capture's records and the run's trigger times in, samples out (wall-clock milliseconds throughout).
import {
  ETH_HEADER_LEN,
  ETH_SRC,
  ETHERTYPE,
  IPPROTO,
  IPV4_PROTO,
  IPV4_DST,
  IPV4_SRC,
  ethernetType,
  formatMac,
  isWireError,
  parseArp,
  parseIpv4Address,
  readIpv4,
  readMac,
  readU16,
  readU32,
  UDP_DST_PORT,
  UDP_HEADER_LEN,
  UDP_SRC_PORT,
  PCAP_LINKTYPE_ETHERNET,
  type PcapRecord,
} from "@havip/wire";

export type FailoverKind = "cut" | "preempt";

/** One failover the run caused: what triggered it, when, who held the VIP before and who should after. */
export interface FailoverEvent {
  kind: FailoverKind;
  /** Wall-clock ms just before the trigger (link cut or restored). */
  triggerAt: number;
  oldHolder: { name: string; mac: string };
  newHolder: { name: string; mac: string };
  /**
   * Whether the control plane was polled every millisecond during this failover (the API rows come from these);
   * the others poll it slowly, so that the data-plane rows do not carry the load of the polling.
   */
  apiWatched: boolean;
  /** Wall-clock ms when the system's control plane first showed the new holder (watched failovers); else null. */
  apiAt: number | null;
}

/** What the client saw of one failover. Times are wall-clock ms; delays are ms; null when not seen. */
export interface FailoverSample {
  kind: FailoverKind;
  /** The control plane was polled every millisecond during it (see FailoverEvent.apiWatched). */
  apiWatched: boolean;
  newHolder: string;
  triggerAt: number;
  /** The first gratuitous ARP for the VIP at the client after the trigger, not from the old holder's MAC. */
  garpAt: number | null;
  /** Its sender MAC: the new holder's (OVN) or the VIP's virtual MAC (havip, §2.5). */
  garpSenderMac: string | null;
  /** The first probe echo from the new holder's MAC after the trigger. */
  firstReplyAt: number | null;
  /** The last probe echo from the old holder's MAC before that. */
  lastOldReplyAt: number | null;
  /** Client-visible outage: first reply from the new holder − last reply from the old. */
  outageMs: number | null;
  /** The delay the platform adds: first reply from the new holder − its gratuitous ARP at the client. */
  garpToReplyMs: number | null;
  /** The new holder's first gratuitous ARP, as its own namespace sent it. */
  announcedAt: number | null;
  /** First reply from the new holder at the client − its gratuitous ARP leaving it (the whole trip included). */
  announceToReplyMs: number | null;
  /** When the control plane showed the new holder − its gratuitous ARP leaving it. */
  apiMs: number | null;
  /** When the client sent the probe that the new holder answered first. */
  firstReplyRequestAt: number | null;
  /**
   * The platform's part without the wait for the client's next probe: first reply − the later of the
   * announcement leaving the new holder and the request that reply answers.
   */
  platformDelayMs: number | null;
  /** That request arriving at the new holder (its own capture). */
  requestAtHolderAt: number | null;
  /** The first reply leaving the new holder (its own capture). */
  replyLeftHolderAt: number | null;
  /**
   * The new holder's own time to answer (request in → reply out, its capture): its kernel and the responder,
   * i.e. the instance, not the platform.
   */
  holderAnswerMs: number | null;
  /** The platform's part with the instance's own time taken out: platform delay − holder answer. */
  fabricDelayMs: number | null;
  /** The longest the client went without sending a request during the outage: large means the client stalled. */
  maxRequestGapMs: number | null;
  /** Replies from the old holder after the new holder announced (in flight at the switch-over, or a bug). */
  oldRepliesAfterAnnouncement: number;
  /** How long after the announcement the old holder's last reply came (ms), when there was one. */
  lastOldReplyAfterAnnouncementMs: number | null;
}

export interface Seen {
  at: number;
  /** A gratuitous ARP for the VIP, a probe's echo from the VIP, or the client's probe to it. */
  kind: "garp" | "reply" | "request";
  /** The ARP sender MAC, or the frame's source MAC. */
  mac: number;
  /** The probe's sequence number (probes and echoes only). */
  seq?: number;
}

/** The UDP port the client probes the VIP on (bench/failover/prober.ts, responder.ts). */
export const PROBE_PORT = 7777;

/** Linux "cooked" capture (tcpdump -i any -y LINUX_SLL): a 16-byte header instead of Ethernet's. */
export const LINKTYPE_LINUX_SLL = 113;
const SLL_HEADER_LEN = 16;
const SLL_ADDRESS = 6;
const SLL_PROTOCOL = 14;

/**
 * The VIP's gratuitous ARPs (sender IP = target IP = VIP), and the probes to the VIP's PROBE_PORT and their
 * echoes from it (a 32-bit sequence number first in the payload) in a capture, in time order. Ethernet captures
 * (the client's eth0) and cooked ones (a parent's `any`, which survives the link cut) are both read; in a cooked
 * one `mac` is the sender's link-layer address (the client's for a probe a parent received, the parent's own for
 * its echo).
 */
export function observations(
  records: readonly PcapRecord[],
  vip: string,
  linktype: number = PCAP_LINKTYPE_ETHERNET,
): Seen[] {
  const vipIp = parseIpv4Address(vip);
  if (vipIp === undefined) throw new Error(`not an IPv4 address: ${vip}`);
  const cooked = linktype === LINKTYPE_LINUX_SLL;
  if (!cooked && linktype !== PCAP_LINKTYPE_ETHERNET) throw new Error(`capture link type ${linktype} is not read`);
  const out: Seen[] = [];
  for (const r of records) {
    const buf = r.data;
    const l3 = cooked ? SLL_HEADER_LEN : ETH_HEADER_LEN;
    if (buf.length < l3) continue;
    const at = Number(r.tsMicros) / 1000;
    const type = cooked ? (buf[SLL_PROTOCOL]! << 8) | buf[SLL_PROTOCOL + 1]! : ethernetType(buf, buf.length);
    if (type === ETHERTYPE.ARP) {
      const arp = parseArp(buf, l3, buf.length - l3);
      if (isWireError(arp)) continue;
      if (arp.senderIp === vipIp && arp.targetIp === vipIp) out.push({ at, kind: "garp", mac: arp.senderMac });
    } else if (type === ETHERTYPE.IPV4 && buf.length >= l3 + 21) {
      const udp = l3 + (buf[l3]! & 0x0f) * 4;
      if (buf[l3 + IPV4_PROTO] !== IPPROTO.UDP || buf.length < udp + UDP_HEADER_LEN + 4) continue;
      const seq = readU32(buf, udp + UDP_HEADER_LEN);
      // A cooked header carries the sender's link-layer address where Ethernet has its source MAC.
      const mac = readMac(buf, cooked ? SLL_ADDRESS : ETH_SRC);
      const fromVip = readIpv4(buf, l3 + IPV4_SRC) === vipIp && readU16(buf, udp + UDP_SRC_PORT) === PROBE_PORT;
      const toVip = readIpv4(buf, l3 + IPV4_DST) === vipIp && readU16(buf, udp + UDP_DST_PORT) === PROBE_PORT;
      if (fromVip) out.push({ at, kind: "reply", mac, seq });
      else if (toVip) out.push({ at, kind: "request", mac, seq });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

function macNumber(mac: string): number {
  return Number.parseInt(mac.replaceAll(":", ""), 16);
}

/** Round-trip times (ms) of the probes answered in the capture (probe and echo matched by sequence). */
export function probeRoundTrips(seen: readonly Seen[]): number[] {
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  for (const s of seen) {
    if (s.seq === undefined) continue;
    if (s.kind === "request") sentAt.set(s.seq, s.at);
    else if (s.kind === "reply") {
      const at = sentAt.get(s.seq);
      if (at !== undefined) {
        rtts.push(s.at - at);
        sentAt.delete(s.seq);
      }
    }
  }
  return rtts;
}

/** The request that `reply` answers, as `list` saw it: the last one with its sequence number before it. */
function lastRequest(list: readonly Seen[], reply: Seen): Seen | undefined {
  return list.filter((s) => s.kind === "request" && s.seq === reply.seq && s.at <= reply.at).at(-1);
}

/**
 * One sample per event, from what the client saw (`seen`) and what each parent's own capture saw (`parents`, by
 * host name: its gratuitous ARPs, the probes it received and its echoes). Each failover's window runs from its
 * trigger to the next event's trigger (or the end of the capture); the old holder's last reply is looked for since
 * the previous trigger.
 */
export function analyseFailovers(
  seen: readonly Seen[],
  parents: Readonly<Record<string, readonly Seen[]>>,
  events: readonly FailoverEvent[],
): FailoverSample[] {
  const sent = Object.values(parents)
    .flat()
    .sort((x, y) => x.at - y.at);
  return events.map((e, i) => {
    const until = events[i + 1]?.triggerAt ?? Infinity;
    const since = events[i - 1]?.triggerAt ?? -Infinity;
    const oldMac = macNumber(e.oldHolder.mac);
    const newMac = macNumber(e.newHolder.mac);
    const inWindow = seen.filter((s) => s.at >= e.triggerAt && s.at < until);
    const garp = inWindow.find((s) => s.kind === "garp" && s.mac !== oldMac);
    const announced = sent.find((s) => s.kind === "garp" && s.mac === newMac && s.at >= e.triggerAt && s.at < until);
    const announcedAt = announced?.at ?? null;
    const first = inWindow.find((s) => s.kind === "reply" && s.mac === newMac);
    const lastOld = seen
      .filter(
        (s) => s.kind === "reply" && s.mac === oldMac && s.at >= since && (first === undefined || s.at < first.at),
      )
      .at(-1);
    const oldAfter =
      announced === undefined
        ? []
        : inWindow.filter((s) => s.kind === "reply" && s.mac === oldMac && s.at > announced.at);
    const garpAt = garp?.at ?? null;
    const firstReplyAt = first?.at ?? null;
    const lastOldReplyAt = lastOld?.at ?? null;
    const request = first === undefined ? undefined : lastRequest(seen, first);
    // The same request and its echo as the new holder's own capture saw them (matched by sequence number).
    const atHolder = parents[e.newHolder.name] ?? [];
    const inAtHolder = first === undefined ? undefined : lastRequest(atHolder, first);
    const outOfHolder =
      first === undefined || inAtHolder === undefined
        ? undefined
        : atHolder.find((s) => s.kind === "reply" && s.seq === first.seq && s.at >= inAtHolder.at && s.at <= first.at);
    const holderAnswerMs =
      inAtHolder === undefined || outOfHolder === undefined ? null : outOfHolder.at - inAtHolder.at;
    const platformDelayMs =
      first === undefined || request === undefined || announcedAt === null
        ? null
        : first.at - Math.max(announcedAt, request.at);
    let maxRequestGapMs: number | null = null;
    if (first !== undefined && lastOld !== undefined) {
      const sentAt = seen
        .filter((s) => s.kind === "request" && s.at >= lastOld.at && s.at <= first.at)
        .map((s) => s.at);
      const edges = [lastOld.at, ...sentAt, first.at];
      maxRequestGapMs = 0;
      for (let k = 1; k < edges.length; k++) maxRequestGapMs = Math.max(maxRequestGapMs, edges[k]! - edges[k - 1]!);
    }
    return {
      kind: e.kind,
      apiWatched: e.apiWatched,
      newHolder: e.newHolder.name,
      triggerAt: e.triggerAt,
      garpAt,
      garpSenderMac: garp === undefined ? null : formatMac(garp.mac),
      firstReplyAt,
      lastOldReplyAt,
      outageMs: firstReplyAt !== null && lastOldReplyAt !== null ? firstReplyAt - lastOldReplyAt : null,
      garpToReplyMs: firstReplyAt !== null && garpAt !== null ? firstReplyAt - garpAt : null,
      announcedAt,
      announceToReplyMs: firstReplyAt !== null && announcedAt !== null ? firstReplyAt - announcedAt : null,
      apiMs: e.apiAt !== null && announcedAt !== null ? e.apiAt - announcedAt : null,
      firstReplyRequestAt: request?.at ?? null,
      platformDelayMs,
      requestAtHolderAt: inAtHolder?.at ?? null,
      replyLeftHolderAt: outOfHolder?.at ?? null,
      holderAnswerMs,
      fabricDelayMs: platformDelayMs === null || holderAnswerMs === null ? null : platformDelayMs - holderAnswerMs,
      maxRequestGapMs,
      oldRepliesAfterAnnouncement: oldAfter.length,
      lastOldReplyAfterAnnouncementMs:
        announcedAt === null || oldAfter.length === 0 ? null : oldAfter.at(-1)!.at - announcedAt,
    };
  });
}
