// Stage 4, the broadcast domain (DESIGN §2.6): a subnet in `auto` mode that holds at least one HAVIP carries
// broadcast and IPv4 multicast to the other vNICs of its domain (tables.ts computes who is in it; README.md
// states the rule). Unicast-only subnets and subnets without HAVIPs carry none.
import { VERDICT } from "../actions.ts";
import { dropCode } from "../reasons.ts";
import type { PipelineState } from "../state.ts";
import type { VnicEntry } from "../tables.ts";

const NOT_CARRIED = dropCode("broadcast-not-carried");
const NOT_IN_DOMAIN = dropCode("not-in-broadcast-domain");

/** Whether `sender` may flood in its subnet; drops with the reason when not. */
export function mayFlood(s: PipelineState, sender: VnicEntry): boolean {
  if (!sender.subnet.carriesBroadcast) {
    s.drop(NOT_CARRIED);
    return false;
  }
  if (!sender.inDomain) {
    s.drop(NOT_IN_DOMAIN);
    return false;
  }
  return true;
}

/** Sends `buf` to every other attached vNIC of the sender's domain. The caller has checked `mayFlood`. */
export function flood(s: PipelineState, sender: VnicEntry, buf: Uint8Array, len: number): void {
  const domain = sender.subnet.domain;
  for (let i = 0; i < domain.length; i++) {
    const n = domain[i]!;
    if (n !== sender && n.portIndex >= 0) s.out.send(n.portIndex, buf, len);
  }
  s.out.verdict = VERDICT.FLOODED;
}
