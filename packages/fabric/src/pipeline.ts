// The pipeline: one frame in, actions out (state.out). Pure with respect to I/O: it transmits nothing itself,
// never throws for any input, and allocates nothing on the forwarding path. The stages, in order:
//   ingress checks (policing and MTU among them) → ARP / announcements → broadcast domain → switching and routing → NAT.
import { VERDICT } from "./actions.ts";
import type { Clock } from "./clock.ts";
import { dropCode } from "./reasons.ts";
import { MAX_FRAME_LEN, PipelineState, type PipelineConfig } from "./state.ts";
import { arpFromInternet, arpFromVnic, requestNeighbour } from "./stages/arp.ts";
import { flood, mayFlood } from "./stages/flood.ts";
import { forwardFromInternet, forwardFromVnic } from "./stages/forward.ts";
import {
  checkEthernet,
  checkIpv4Packet,
  checkVnicArp,
  checkVnicSourceIp,
  checkVnicSourceMac,
  isArpFrame,
} from "./stages/ingress.ts";
import { checkVnicMtu } from "./stages/mtu.ts";
import { IPPROTO_VRRP, watchVrrp } from "./stages/vrrp-watch.ts";
import { police } from "./stages/police.ts";
import type { Tables, VnicEntry } from "./tables.ts";

const UNKNOWN_PORT = dropCode("unknown-port");
const MALFORMED = dropCode("malformed");
const SPOOFED_MAC = dropCode("spoofed-source-mac");

export class Pipeline {
  readonly state: PipelineState;

  constructor(tables: Tables, config: PipelineConfig, clock: Clock) {
    this.state = new PipelineState(tables, config, clock);
  }

  /** Processes one frame that arrived on port `inPort`; the result is in `state.out`. */
  process(inPort: number, buf: Uint8Array, len: number): void {
    const s = this.state;
    s.begin(inPort, buf, len);
    s.counters.framesIn++;
    if (len > buf.length || len > MAX_FRAME_LEN || len < 0) {
      s.drop(MALFORMED, "bad-total-length");
    } else if (inPort === s.internetPort && s.tables.internet !== null) {
      this.fromInternet();
    } else {
      const vnic = inPort >= 0 && inPort < s.vnicByPort.length ? s.vnicByPort[inPort] : undefined;
      if (vnic == null) s.drop(UNKNOWN_PORT);
      else this.fromVnic(vnic);
    }
    this.count();
  }

  private fromVnic(vnic: VnicEntry): void {
    const s = this.state;
    s.vnic = vnic;
    if (!checkEthernet(s) || !checkVnicSourceMac(s, vnic) || !police(s, vnic) || !checkVnicMtu(s, vnic)) return;
    if (isArpFrame(s)) {
      if (checkVnicArp(s, vnic)) arpFromVnic(s, vnic);
      return;
    }
    if (!checkIpv4Packet(s) || !checkVnicSourceIp(s, vnic)) return;
    if (s.proto === IPPROTO_VRRP) watchVrrp(s, vnic);
    if ((s.buf[0]! & 1) === 1) {
      // Broadcast or multicast (VRRP adverts to 224.0.0.18, …): the broadcast domain decides.
      if (mayFlood(s, vnic)) flood(s, vnic, s.buf, s.len);
      return;
    }
    forwardFromVnic(s, vnic);
  }

  private fromInternet(): void {
    const s = this.state;
    const inet = s.tables.internet!;
    if (!checkEthernet(s)) return;
    if (isArpFrame(s)) {
      arpFromInternet(s, inet);
      return;
    }
    if ((s.buf[6]! & 1) === 1) {
      s.drop(SPOOFED_MAC);
      return;
    }
    if (!checkIpv4Packet(s)) return;
    forwardFromInternet(s, inet);
  }

  private count(): void {
    const s = this.state;
    const c = s.counters;
    switch (s.out.verdict) {
      case VERDICT.FORWARDED:
        c.forwarded++;
        break;
      case VERDICT.FLOODED:
        c.flooded++;
        c.floodCopies += s.out.count;
        break;
      case VERDICT.REPLIED:
        c.arpReplies++;
        break;
      case VERDICT.CONSUMED:
        c.consumed++;
        break;
      case VERDICT.DROPPED:
        c.dropped++;
        c.drops[s.out.drop] = c.drops[s.out.drop]! + 1;
        break;
      case VERDICT.NONE:
        break;
    }
  }

  /** Queues an ARP request for the internet next hop when it is configured and unknown (e.g. at start). */
  resolveNextHop(): void {
    const s = this.state;
    s.out.reset();
    const inet = s.tables.internet;
    if (inet === null || s.internetPort < 0 || inet.gateway === 0) return;
    if (s.neighbours.lookup(inet.gateway) >= 0) return;
    if (s.neighbours.shouldAsk(inet.gateway, s.clock.now(), s.config.neighbourRequestIntervalMs)) {
      requestNeighbour(s, inet, inet.gateway);
    }
  }
}
