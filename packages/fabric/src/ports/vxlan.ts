// The VXLAN port set: one UDP socket carries many ports, one VNI per vNIC (RFC 7348). Each attachment maps a
// remote VTEP address and a VNI to a port; frames from an unknown VNI or an unknown source are dropped and
// counted. The receive side matches the source address (and the source port only when asked: a kernel VXLAN
// device picks its UDP source port per flow); the send side addresses the remote's VXLAN port.
//
// The hot path is one datagram in, one (or a few) out, so it is kept lean (bench/fabric/socket.ts profiles it):
// destinations are IPv4 literals answered without a DNS lookup, one shared send callback, a header made once
// per port, and socket buffers large enough to ride out the moments when the process is not scheduled.
//
// Two kinds of I/O carry the datagrams. "batch" (the default when the native addon is built) receives with
// recvmmsg and sends with sendmmsg through batch-socket.ts: one system call and one JS entry per batch, rings
// allocated once. "dgram" is Node's dgram socket: one recvmsg, one callback and one sendmsg per datagram.
// Both behave the same; sources are compared as uint32 addresses in both.
import dgram from "node:dgram";
import { isIPv4 } from "node:net";
import { ETH_HEADER_LEN, VXLAN_HEADER_LEN, VXLAN_PORT, readVni, writeVxlanHeader } from "@havip/wire";
import {
  BatchSocket,
  copyFrame,
  ipv4ToUint32,
  loadBatchUdp,
  type BatchUdpAddon,
  type ReceiveModeration,
} from "./batch-socket.ts";
import type { FrameReceiver, Port } from "./port.ts";

/** How a port set moves datagrams: "auto" picks "batch" when the native addon loads, else "dgram". */
export type VxlanIoMode = "auto" | "dgram" | "batch";

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
  /** "auto" by default (see VxlanIoMode); "batch" throws when the addon cannot be loaded. */
  io?: VxlanIoMode;
  /** Told once when "auto" falls back to dgram, with the reason. */
  onWarning?: (message: string) => void;
  /** Batch I/O only: receive moderation of the socket (see ReceiveModeration); off by default. */
  moderation?: ReceiveModeration;
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
  /** Batch I/O only: datagrams dropped because the socket's send buffer was full (it never waits for room). */
  sendDropped: number;
  /** Batch I/O only: times receive moderation read the socket a hold later instead of at once. */
  rxHolds: number;
}

class VxlanPort implements Port {
  readonly id: string;
  readonly attachment: Required<VxlanAttachment>;
  /** The 8-byte VXLAN header of every datagram this port sends. */
  readonly header: Uint8Array;
  /** The remote's IPv4 address as a uint32: compared with each datagram's source without strings. */
  readonly remoteAddress32: number;
  receiver: FrameReceiver | null = null;
  private readonly set: VxlanPortSet;

  constructor(id: string, attachment: Required<VxlanAttachment>, set: VxlanPortSet) {
    this.id = id;
    this.attachment = attachment;
    this.header = new Uint8Array(VXLAN_HEADER_LEN);
    writeVxlanHeader(this.header, 0, attachment.vni);
    this.remoteAddress32 = ipv4ToUint32(attachment.remoteAddress);
    this.set = set;
  }

  send(frame: Uint8Array, len: number): void {
    this.set.transmit(this, frame, len);
  }

  setReceiver(receiver: FrameReceiver | null): void {
    this.receiver = receiver;
  }
}

/** Picks the I/O for a port set: the addon to use, or null for dgram (with the reason when "auto" fell back). */
function chooseIo(mode: VxlanIoMode): { addon: BatchUdpAddon | null; fallback: string | null } {
  if (mode === "dgram") return { addon: null, fallback: null };
  const load = loadBatchUdp();
  if (load.addon !== null) return { addon: load.addon, fallback: null };
  if (mode === "batch") throw new Error(`VXLAN batch I/O is not available: ${load.reason}`);
  return { addon: null, fallback: load.reason };
}

export class VxlanPortSet {
  /** The I/O in use (what "auto" chose). */
  readonly io: "dgram" | "batch";
  /** Why "auto" fell back to dgram; null when it did not. */
  readonly ioFallbackReason: string | null;
  private readonly ownCounters: VxlanCounters = {
    rxDatagrams: 0,
    txDatagrams: 0,
    malformed: 0,
    unknownVni: 0,
    unknownSource: 0,
    sendErrors: 0,
    sendDropped: 0,
    rxHolds: 0,
  };
  private readonly options: Required<Omit<VxlanPortSetOptions, "io" | "onWarning" | "moderation">>;
  private readonly moderation: ReceiveModeration | undefined;
  private readonly byVni = new Map<number, VxlanPort[]>();
  private readonly byId = new Map<string, VxlanPort>();
  private closed = false;
  /** dgram I/O: the socket (made at construction, bound by open). */
  private readonly socket: dgram.Socket | null = null;
  /** dgram I/O: the last source address seen and its uint32 (datagrams come from a handful of VTEPs). */
  private lastSource = "";
  private lastSource32 = -1;
  /** batch I/O: the addon, and the socket once open. */
  private readonly addon: BatchUdpAddon | null;
  private batch: BatchSocket | null = null;
  /** batch I/O: per receive slot, a view of the frame after the VXLAN header (made once at open). */
  private rxFrames: Uint8Array[] = [];
  /** Send errors counted here before the addon sees the datagram (a frame larger than a slot). */
  private oversize = 0;
  /** One callback for every send (a closure per datagram costs more than the counting it does). */
  private readonly onSent = (err: Error | null): void => {
    if (err) this.ownCounters.sendErrors++;
  };
  private readonly onBatch = (count: number): void => {
    const b = this.batch!;
    for (let i = 0; i < count && !this.closed; i++) {
      if (b.rxTruncated(i)) {
        this.ownCounters.rxDatagrams++;
        this.ownCounters.malformed++; // longer than a slot: no valid VXLAN frame of ours is
        continue;
      }
      this.receive(b.rxSlots[i]!, this.rxFrames[i]!, b.rxLength(i), b.rxAddress(i), b.rxPort(i));
    }
  };

  constructor(options: VxlanPortSetOptions = {}) {
    this.options = {
      address: options.address ?? "0.0.0.0",
      port: options.port ?? VXLAN_PORT,
      bufferSize: options.bufferSize ?? VXLAN_SOCKET_BUFFER,
    };
    this.moderation = options.moderation;
    const { addon, fallback } = chooseIo(options.io ?? "auto");
    this.addon = addon;
    this.io = addon === null ? "dgram" : "batch";
    this.ioFallbackReason = fallback;
    if (fallback !== null) options.onWarning?.(`VXLAN I/O falls back to dgram: ${fallback}`);
    if (addon !== null) return;
    this.socket = dgram.createSocket({
      type: "udp4",
      lookup: literalLookup,
      recvBufferSize: this.options.bufferSize,
      sendBufferSize: this.options.bufferSize,
    });
    this.socket.on("message", (msg, rinfo) => {
      if (rinfo.address !== this.lastSource) {
        this.lastSource = rinfo.address;
        this.lastSource32 = ipv4ToUint32(rinfo.address);
      }
      this.receive(msg, msg.subarray(VXLAN_HEADER_LEN), msg.length, this.lastSource32, rinfo.port);
    });
  }

  /** The counters; in batch I/O, send errors and drops include what the addon counted. */
  get counters(): VxlanCounters {
    const c = this.ownCounters;
    if (this.batch !== null) {
      const n = this.batch.counters;
      c.sendErrors = this.oversize + n.sendErrors;
      c.sendDropped = n.sendDropped;
      c.rxHolds = n.holds;
    }
    return c;
  }

  /** Binds the socket; resolves with the bound address and port. */
  open(): Promise<{ address: string; port: number }> {
    if (this.addon !== null) {
      if (this.batch !== null || this.closed) return Promise.reject(new Error("the VXLAN port set was opened already"));
      try {
        const b = new BatchSocket(this.addon, {
          address: this.options.address,
          port: this.options.port,
          bufferBytes: this.options.bufferSize,
          onBatch: this.onBatch,
          ...(this.moderation === undefined ? {} : { moderation: this.moderation }),
        });
        this.batch = b;
        this.rxFrames = b.rxSlots.map((slot) => slot.subarray(VXLAN_HEADER_LEN));
        return Promise.resolve({ address: this.options.address, port: b.port });
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    const socket = this.socket!;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(err);
      };
      socket.once("error", onError);
      socket.bind(this.options.port, this.options.address, () => {
        socket.off("error", onError);
        // After binding, socket errors (e.g. ICMP port unreachable surfacing) are counted, never thrown.
        socket.on("error", () => {
          this.ownCounters.sendErrors++;
        });
        const a = socket.address();
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

  /** One datagram of `len` bytes; `frame` views it from the Ethernet header on (valid during the call). */
  private receive(datagram: Uint8Array, frame: Uint8Array, len: number, address: number, sourcePort: number): void {
    const c = this.ownCounters;
    c.rxDatagrams++;
    // The length check comes first: a receive slot is longer than the datagram in it.
    const vni = len < VXLAN_HEADER_LEN + ETH_HEADER_LEN ? -1 : readVni(datagram, 0);
    if (vni < 0) {
      c.malformed++;
      return;
    }
    const list = this.byVni.get(vni);
    if (list === undefined) {
      c.unknownVni++;
      return;
    }
    for (const p of list) {
      if (p.remoteAddress32 === address && (!p.attachment.matchSourcePort || p.attachment.remotePort === sourcePort)) {
        p.receiver?.(frame, len - VXLAN_HEADER_LEN);
        return;
      }
    }
    c.unknownSource++;
  }

  /** Sends a frame out of `port` (copied: the fabric's buffer is reused after the call). */
  transmit(port: VxlanPort, frame: Uint8Array, len: number): void {
    if (this.closed) return;
    this.ownCounters.txDatagrams++;
    const size = VXLAN_HEADER_LEN + len;
    const batch = this.batch;
    if (batch !== null) {
      if (size > batch.slotSize) {
        this.oversize++; // dgram would hand it to the kernel; no frame of a 9000-byte MTU is this large
        return;
      }
      // The copy into the send ring replaces a Buffer per datagram.
      const slot = batch.sendSlot();
      slot.set(port.header, 0);
      copyFrame(slot, VXLAN_HEADER_LEN, frame, len);
      batch.commit(size, port.remoteAddress32, port.attachment.remotePort);
      return;
    }
    if (this.socket === null) return; // batch I/O before open: nothing to send with
    const datagram = Buffer.allocUnsafe(size);
    datagram.set(port.header, 0);
    datagram.set(frame.subarray(0, len), VXLAN_HEADER_LEN);
    this.socket.send(datagram, port.attachment.remotePort, port.attachment.remoteAddress, this.onSent);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.socket === null) {
      this.batch?.close();
      return Promise.resolve();
    }
    const socket = this.socket;
    return new Promise((resolve) => {
      socket.close(() => {
        resolve();
      });
    });
  }
}
