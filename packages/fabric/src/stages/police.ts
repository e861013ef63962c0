// Stage 1b, policing (DESIGN §2.7): right after the source-MAC check, before any ARP, announcement or flood work,
// each vNIC's ARP frames and its other broadcast and multicast frames take a token from that vNIC's bucket
// (policers.ts); a frame that finds none is dropped (`rate-limited`), so one instance's flood costs the fabric
// little and its neighbours nothing. Unicast IPv4 is not policed, and costs two byte reads here.
import { BUCKET } from "../policers.ts";
import { dropCode } from "../reasons.ts";
import type { PipelineState } from "../state.ts";
import type { VnicEntry } from "../tables.ts";

const RATE_LIMITED = dropCode("rate-limited");

/** Whether the frame from `vnic` is within its rate; false: dropped as `rate-limited`. */
export function police(s: PipelineState, vnic: VnicEntry): boolean {
  const c = s.config.policing;
  if (c === null) return true;
  const buf = s.buf;
  let perSecond: number;
  let burst: number;
  let bucket: typeof BUCKET.ARP | typeof BUCKET.BROADCAST;
  // The ingress check let only IPv4 (0x0800) and ARP (0x0806) through: the type's low byte tells them apart.
  if (buf[13] === 0x06) {
    perSecond = c.arpPerSecond;
    burst = c.arpBurst;
    bucket = BUCKET.ARP;
  } else if ((buf[0]! & 1) === 1) {
    perSecond = c.broadcastPerSecond;
    burst = c.broadcastBurst;
    bucket = BUCKET.BROADCAST;
  } else {
    return true;
  }
  if (perSecond === 0) return true;
  const now = s.now();
  const policer = vnic.policer ?? (vnic.policer = s.policers.of(vnic.id, c, now, s.tables.vnics));
  if (policer.take(bucket, perSecond, burst, now)) return true;
  s.drop(RATE_LIMITED);
  return false;
}
