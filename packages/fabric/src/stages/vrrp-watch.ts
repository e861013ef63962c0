// VRRP adverts seen on their way through: a holder that sends one with priority 0 resigns (RFC 5798 §6.4.2, RFC 3768
// §6.4.3: a master that stops sends priority 0 so that a backup takes over at once). Verification then asks right
// away who has the address, rather than at its next round: a backup that takes over announces itself anyway, but
// one whose announcement is lost is found within a round trip. Nothing here changes a holder.
import { VRRP_ADDRESSES, VRRP_COUNT, VRRP_PRIORITY, readIpv4 } from "@havip/wire";
import type { PipelineState } from "../state.ts";
import { ENTRY, type VnicEntry } from "../tables.ts";

export const IPPROTO_VRRP = 112;

/** Looks at a VRRP packet from `vnic` (ingress checked; the context holds its IPv4 fields). */
export function watchVrrp(s: PipelineState, vnic: VnicEntry): void {
  const buf = s.buf;
  const off = s.ipOff + s.ipHeaderLen;
  const end = s.ipOff + s.ipTotalLen;
  if (end > s.len || off + VRRP_ADDRESSES > end || buf[off + VRRP_PRIORITY] !== 0) return;
  const count = buf[off + VRRP_COUNT]!;
  for (let i = 0; i < count; i++) {
    const at = off + VRRP_ADDRESSES + 4 * i;
    if (at + 4 > end) return;
    const e = vnic.vpc.l3.get(readIpv4(buf, at) | 0);
    if (e === undefined || e.kind !== ENTRY.HAVIP || e.holder !== vnic) continue;
    const rt = e.runtime;
    if (rt.probe !== null) rt.probeAgain = true;
    else rt.nextProbeAt = 0;
  }
}
