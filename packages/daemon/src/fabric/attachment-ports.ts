// The ports behind vNIC attachments, wherever the fabric runs (havipd's process or a fabric agent): a VXLAN
// attachment is a port of the VXLAN port set, a veth attachment a packet port on an interface of this
// process's namespace. Plugging replaces whatever the port id had.
import {
  addPacketCounters,
  PacketPort,
  packetPortsAvailable,
  type Fabric,
  type PacketPortCounters,
  type ReceiveModeration,
  type VxlanPortSet,
} from "@havip/fabric";
import { isVeth, type AgentAttachment } from "../agent/protocol.ts";

/** The fabric has no VXLAN port set, so a VXLAN attachment cannot be made. */
export class NoVxlanListener extends Error {}

/** An attachment the fabric cannot make (no packet sockets, no such interface, an interface taken). */
export class AttachmentRefused extends Error {}

export class AttachmentPorts {
  private readonly fabric: Fabric;
  private readonly set: VxlanPortSet | null;
  private readonly noVxlan: string;
  private readonly packets = new Map<string, PacketPort>();
  private readonly moderation: ReceiveModeration | undefined;

  /**
   * `noVxlan`: what a VXLAN attachment is told when there is no port set. `moderation`: the veth attachments'
   * receive moderation (off when absent).
   */
  constructor(fabric: Fabric, set: VxlanPortSet | null, noVxlan: string, moderation?: ReceiveModeration) {
    this.fabric = fabric;
    this.set = set;
    this.noVxlan = noVxlan;
    this.moderation = moderation;
  }

  /** Whether veth attachments can be made here (the native addon opens packet sockets). */
  static vethAvailable(): boolean {
    return packetPortsAvailable().ok;
  }

  /** Attaches `portId` as `a`, replacing its previous attachment; throws (and leaves it detached) when refused. */
  plug(portId: string, a: AgentAttachment): void {
    if (!isVeth(a) && this.set === null) throw new NoVxlanListener(this.noVxlan);
    this.unplug(portId);
    if (!isVeth(a)) {
      this.fabric.attachPort(
        this.set!.addPort(portId, { remoteAddress: a.remoteAddress, remotePort: a.remotePort, vni: a.vni }),
      );
      return;
    }
    for (const [id, p] of this.packets) {
      if (p.interfaceName === a.interface) {
        throw new AttachmentRefused(`cannot attach interface ${a.interface}: it is already attached to ${id}`);
      }
    }
    const available = packetPortsAvailable();
    if (!available.ok) throw new AttachmentRefused(`cannot attach interface ${a.interface}: ${available.reason}`);
    let port: PacketPort;
    try {
      port = new PacketPort(portId, {
        interface: a.interface,
        ...(this.moderation === undefined ? {} : { moderation: this.moderation }),
      });
    } catch (e) {
      const why = e instanceof Error ? e.message.replace(/^batch-udp: /, "") : String(e);
      throw new AttachmentRefused(`cannot attach interface ${a.interface}: ${why}`);
    }
    this.packets.set(portId, port);
    this.fabric.attachPort(port);
  }

  unplug(portId: string): void {
    this.fabric.detachPort(portId);
    this.set?.removePort(portId);
    const packet = this.packets.get(portId);
    if (packet !== undefined) {
      this.packets.delete(portId);
      packet.close();
    }
  }

  /** The sum of the veth attachments' counters; null when there are none. */
  packetCounters(): PacketPortCounters | null {
    let sum: PacketPortCounters | null = null;
    for (const p of this.packets.values()) sum = sum === null ? p.counters : addPacketCounters(sum, p.counters);
    return sum;
  }

  /** Closes the packet ports (the fabric and the VXLAN port set belong to the caller). */
  close(): void {
    for (const p of this.packets.values()) p.close();
    this.packets.clear();
  }
}
