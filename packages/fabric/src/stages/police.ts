// Stage 1b, policing (DESIGN §2.7): right after the source-MAC check, before any ARP, announcement or flood work,
// each vNIC's ARP frames and its other broadcast and multicast frames take a token from that vNIC's bucket
// (policers.ts); a frame that finds none is dropped (`rate-limited`), so one instance's flood costs the fabric
// little and its neighbours nothing. Unicast IPv4 is not policed, and costs three reads here.
import { BUCKET, type PolicingConfig } from "../policers.ts";
import { dropCode } from "../reasons.ts";
import type { PipelineState } from "../state.ts";
import type { VnicEntry } from "../tables.ts";

const RATE_LIMITED = dropCode("rate-limited");

/** Whether the frame from `vnic` is within its rate; false: dropped as `rate-limited`. */
export function police(s: PipelineState, vnic: VnicEntry): boolean {
  const c = s.config.policing;
  // Unicast IPv4, most of the traffic, is decided in three reads (the ingress check let only IPv4, 0x0800, and
  // ARP, 0x0806, through: the type's low byte tells them apart). The rest is another function, so that what is
  // inlined into every frame's path stays small: a bigger body here pushed V8's inlining budget past the
  // forwarding stage's MAC lookups, whose 48-bit MACs were then boxed at every call (garbage per frame).
  if (c === null || (s.buf[13] !== 0x06 && (s.buf[0]! & 1) === 0)) return true;
  return policeArpOrBroadcast(s, vnic, c);
}

function policeArpOrBroadcast(s: PipelineState, vnic: VnicEntry, c: PolicingConfig): boolean {
  const arp = s.buf[13] === 0x06;
  const perSecond = arp ? c.arpPerSecond : c.broadcastPerSecond;
  if (perSecond === 0) return true;
  const now = s.now();
  const policer = vnic.policer ?? (vnic.policer = s.policers.of(vnic.id, c, now, s.tables.vnics));
  if (
    arp
      ? policer.take(BUCKET.ARP, perSecond, c.arpBurst, now)
      : policer.take(BUCKET.BROADCAST, perSecond, c.broadcastBurst, now)
  ) {
    return true;
  }
  s.drop(RATE_LIMITED);
  return false;
}
