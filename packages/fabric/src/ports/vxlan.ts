// The VXLAN port set: one UDP socket carries many ports, one VNI per vNIC (RFC 7348). Each attachment maps a
// remote VTEP address and a VNI to a port; frames from an unknown VNI or an unknown source are dropped and
// counted. The receive side matches the source address (and the source port only when asked: a kernel VXLAN
// device picks its UDP source port per flow); the send side addresses the remote's VXLAN port.
//
// The hot path is one datagram in, one (or a few) out, so it is kept lean (bench/fabric/socket.ts profiles it):
// destinations are IPv4 literals answered without a DNS lookup, one shared send callback, a header made once
// per port, and socket buffers large enough to ride out the moments when the process is not scheduled.
import dgram from "node:dgram";
import { isIPv4 } from "node:net";
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
  /**
   * SO_RCVBUF and SO_SNDBUF in bytes (the kernel caps them at net.core.rmem_max / wmem_max); 4 MiB by default.
   * The kernel's default (about 200 KiB) holds only a dozen jumbo datagrams: TCP through the fabric then loses
   * segments whenever the process is briefly not scheduled.
   */
  bufferSize?: number;
}

/** Default socket buffer size: 4 MiB. */
export const VXLAN_SOCKET_BUFFER = 4 * 1024 * 1024;

// dgram resolves every destination through `lookup` (dns.lookup by default), which answers even an IP literal
// on a later tick: a regular expression, a closure and a tick per datagram. Attachments name IPv4 literals
// (addPort checks), so the answer is the address itself, at once.
function literalLookup(
  address: string,
  _options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
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
  /** The 8-byte VXLAN header of every datagram this port sends. */
  readonly header: Uint8Array;
  receiver: FrameReceiver | null = null;
  private readonly set: VxlanPortSet;

  constructor(id: string, attachment: Required<VxlanAttachment>, set: VxlanPortSet) {
    this.id = id;
    this.attachment = attachment;
    this.header = new Uint8Array(VXLAN_HEADER_LEN);
    writeVxlanHeader(this.header, 0, attachment.vni);
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
  /** One callback for every send (a closure per datagram costs more than the counting it does). */
  private readonly onSent = (err: Error | null): void => {
    if (err) this.counters.sendErrors++;
  };

  constructor(options: VxlanPortSetOptions = {}) {
    this.options = {
      address: options.address ?? "0.0.0.0",
      port: options.port ?? VXLAN_PORT,
      bufferSize: options.bufferSize ?? VXLAN_SOCKET_BUFFER,
    };
    this.socket = dgram.createSocket({
      type: "udp4",
      lookup: literalLookup,
      recvBufferSize: this.options.bufferSize,
      sendBufferSize: this.options.bufferSize,
    });
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
    if (!isIPv4(a.remoteAddress)) throw new RangeError(`remote address ${a.remoteAddress} is not an IPv4 address`);
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
    datagram.set(port.header, 0);
    datagram.set(frame.subarray(0, len), VXLAN_HEADER_LEN);
    this.counters.txDatagrams++;
    this.socket.send(datagram, port.attachment.remotePort, port.attachment.remoteAddress, this.onSent);
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
