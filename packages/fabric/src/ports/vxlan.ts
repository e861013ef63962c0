// The VXLAN port set: one UDP socket carries many ports, one VNI per vNIC (RFC 7348). Each attachment maps a
// remote VTEP address and a VNI to a port; frames from an unknown VNI or an unknown source are dropped and
// counted. The receive side matches the source address (and the source port only when asked: a kernel VXLAN
// device picks its UDP source port per flow); the send side addresses the remote's VXLAN port.
import dgram from "node:dgram";
import { ETH_HEADER_LEN, VXLAN_HEADER_LEN, VXLAN_PORT, readVni, writeVxlanHeader } from "@havip/wire";
import type { FrameReceiver, Port } from "./port.ts";

export interface VxlanAttachment {
  /** The remote VTEP's IPv4 address. */
  remoteAddress: string;
  /** The UDP port frames are sent to; 4789 by default. */
  remotePort?: number;
  vni: number;
  /** Also require the datagram's source port to be `remotePort` (a peer with a fixed source port). */
  matchSourcePort?: boolean;
}

export interface VxlanPortSetOptions {
  /** Local address to bind; 0.0.0.0 by default. */
  address?: string;
  /** Local UDP port; 4789 by default, 0 for an ephemeral one (tests). */
  port?: number;
}

export interface VxlanCounters {
  rxDatagrams: number;
  txDatagrams: number;
  /** VXLAN header missing, I flag not set, or no room for an Ethernet header. */
  malformed: number;
  unknownVni: number;
  unknownSource: number;
  sendErrors: number;
}

class VxlanPort implements Port {
  readonly id: string;
  readonly attachment: Required<VxlanAttachment>;
  receiver: FrameReceiver | null = null;
  private readonly set: VxlanPortSet;

  constructor(id: string, attachment: Required<VxlanAttachment>, set: VxlanPortSet) {
    this.id = id;
    this.attachment = attachment;
    this.set = set;
  }

  send(frame: Uint8Array, len: number): void {
    this.set.transmit(this, frame, len);
  }

  setReceiver(receiver: FrameReceiver | null): void {
    this.receiver = receiver;
  }
}

export class VxlanPortSet {
  readonly counters: VxlanCounters = {
    rxDatagrams: 0,
    txDatagrams: 0,
    malformed: 0,
    unknownVni: 0,
    unknownSource: 0,
    sendErrors: 0,
  };
  private readonly socket: dgram.Socket;
  private readonly options: Required<VxlanPortSetOptions>;
  private readonly byVni = new Map<number, VxlanPort[]>();
  private readonly byId = new Map<string, VxlanPort>();
  private closed = false;

  constructor(options: VxlanPortSetOptions = {}) {
    this.options = { address: options.address ?? "0.0.0.0", port: options.port ?? VXLAN_PORT };
    this.socket = dgram.createSocket({ type: "udp4" });
    this.socket.on("message", (msg, rinfo) => {
      this.receive(msg, rinfo.address, rinfo.port);
    });
  }

  /** Binds the socket; resolves with the bound address and port. */
  open(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(err);
      };
      this.socket.once("error", onError);
      this.socket.bind(this.options.port, this.options.address, () => {
        this.socket.off("error", onError);
        // After binding, socket errors (e.g. ICMP port unreachable surfacing) are counted, never thrown.
        this.socket.on("error", () => {
          this.counters.sendErrors++;
        });
        const a = this.socket.address();
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** Creates the port for an attachment. Ids are unique; a (VNI, address, port) pair is taken once. */
  addPort(id: string, attachment: VxlanAttachment): Port {
    if (this.byId.has(id)) throw new Error(`VXLAN port ${id} exists`);
    const a: Required<VxlanAttachment> = {
      remoteAddress: attachment.remoteAddress,
      remotePort: attachment.remotePort ?? VXLAN_PORT,
      vni: attachment.vni,
      matchSourcePort: attachment.matchSourcePort ?? false,
    };
    if (!Number.isInteger(a.vni) || a.vni < 0 || a.vni > 0xffffff) throw new RangeError(`bad VNI ${a.vni}`);
    const list = this.byVni.get(a.vni) ?? [];
    if (list.some((p) => p.attachment.remoteAddress === a.remoteAddress && p.attachment.remotePort === a.remotePort)) {
      throw new Error(`VNI ${a.vni} from ${a.remoteAddress}:${a.remotePort} is already attached`);
    }
    const port = new VxlanPort(id, a, this);
    list.push(port);
    this.byVni.set(a.vni, list);
    this.byId.set(id, port);
    return port;
  }

  removePort(id: string): void {
    const port = this.byId.get(id);
    if (port === undefined) return;
    this.byId.delete(id);
    const list = this.byVni.get(port.attachment.vni)!.filter((p) => p !== port);
    if (list.length === 0) this.byVni.delete(port.attachment.vni);
    else this.byVni.set(port.attachment.vni, list);
  }

  private receive(msg: Buffer, address: string, sourcePort: number): void {
    this.counters.rxDatagrams++;
    const vni = readVni(msg, 0);
    if (vni < 0 || msg.length < VXLAN_HEADER_LEN + ETH_HEADER_LEN) {
      this.counters.malformed++;
      return;
    }
    const list = this.byVni.get(vni);
    if (list === undefined) {
      this.counters.unknownVni++;
      return;
    }
    for (const p of list) {
      const a = p.attachment;
      if (a.remoteAddress === address && (!a.matchSourcePort || a.remotePort === sourcePort)) {
        p.receiver?.(msg.subarray(VXLAN_HEADER_LEN), msg.length - VXLAN_HEADER_LEN);
        return;
      }
    }
    this.counters.unknownSource++;
  }

  /** Sends a frame out of `port` (copied: the fabric's buffer is reused after the call). */
  transmit(port: VxlanPort, frame: Uint8Array, len: number): void {
    if (this.closed) return;
    const datagram = Buffer.allocUnsafe(VXLAN_HEADER_LEN + len);
    writeVxlanHeader(datagram, 0, port.attachment.vni);
    datagram.set(frame.subarray(0, len), VXLAN_HEADER_LEN);
    this.counters.txDatagrams++;
    this.socket.send(datagram, port.attachment.remotePort, port.attachment.remoteAddress, (err) => {
      if (err) this.counters.sendErrors++;
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      this.socket.close(() => {
        resolve();
      });
    });
  }
}
