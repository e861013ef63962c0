// A local attachment: one network interface (the fabric's end of an instance's veth pair) read and written as
// raw Ethernet frames through a batched AF_PACKET socket (batch-socket.ts). No tunnel: the frame the instance
// sent is the frame the fabric sees, so the kernel does no encapsulation, no extra UDP/IP hop and no
// decapsulation per frame. Nothing is allocated per frame: frames are read in place from the receive ring and
// copied once into the send ring; what a receive batch produces leaves in one sendmmsg, anything else on a
// microtask.
//
// Frames must arrive whole: the interface's end must not coalesce (GRO) or hand over unsegmented (GSO/TSO)
// frames or leave checksums to hardware (`ethtool -K <if> gro off gso off tso off tx off`, on both ends).
import { ETH_HEADER_LEN } from "@havip/wire";
import { BatchSocket, copyFrame, loadBatchUdp, type BatchUdpAddon, type ReceiveModeration } from "./batch-socket.ts";
import type { FrameReceiver, Port } from "./port.ts";

export interface PacketPortOptions {
  /** The interface, in the namespace of this process. */
  interface: string;
  /** SO_RCVBUF and SO_SNDBUF in bytes; 4 MiB by default (as root, past net.core.rmem_max). */
  bufferSize?: number;
  /** The addon to use (tests); loaded by default. */
  addon?: BatchUdpAddon;
  /** Receive moderation of the socket (see ReceiveModeration); off by default. */
  moderation?: ReceiveModeration;
}

export interface PacketPortCounters {
  rxFrames: number;
  txFrames: number;
  /** Received frames longer than a ring slot (a GRO/GSO frame: offloads left on), dropped. */
  truncated: number;
  /** Received frames shorter than an Ethernet header, dropped. */
  runts: number;
  /** Frames not sent: larger than a slot, or refused by the kernel (e.g. larger than the interface's MTU). */
  sendErrors: number;
  /** Frames not sent because the socket's send buffer was full (it never waits for room). */
  sendDropped: number;
  /** Times receive moderation read the socket a hold later instead of at once. */
  rxHolds: number;
}

/** Default socket buffer size: 4 MiB, as for the VXLAN port set. */
export const PACKET_SOCKET_BUFFER = 4 * 1024 * 1024;

/** Whether packet ports can be opened here; the reason when not (no addon, or one built without openPacket). */
export function packetPortsAvailable(): { ok: true } | { ok: false; reason: string } {
  const load = loadBatchUdp();
  if (load.addon === null) return { ok: false, reason: load.reason };
  if (load.addon.openPacket === undefined) {
    return { ok: false, reason: "the batch-udp addon has no openPacket (rebuild it: scripts/build-native.sh)" };
  }
  return { ok: true };
}

export class PacketPort implements Port {
  readonly id: string;
  readonly interfaceName: string;
  private receiver: FrameReceiver | null = null;
  private readonly socket: BatchSocket;
  private readonly own = { rxFrames: 0, txFrames: 0, truncated: 0, runts: 0, oversize: 0 };
  private closed = false;

  /** Opens the socket on `options.interface`; throws when the addon is missing or the interface cannot be opened. */
  constructor(id: string, options: PacketPortOptions) {
    this.id = id;
    this.interfaceName = options.interface;
    let addon = options.addon;
    if (addon === undefined) {
      const available = packetPortsAvailable();
      if (!available.ok) throw new Error(`packet ports are not available: ${available.reason}`);
      addon = loadBatchUdp().addon!;
    }
    this.socket = new BatchSocket(addon, {
      interface: options.interface,
      bufferBytes: options.bufferSize ?? PACKET_SOCKET_BUFFER,
      onBatch: this.onBatch,
      ...(options.moderation === undefined ? {} : { moderation: options.moderation }),
    });
  }

  private readonly onBatch = (count: number): void => {
    const s = this.socket;
    const c = this.own;
    for (let i = 0; i < count && !this.closed; i++) {
      c.rxFrames++;
      const len = s.rxLength(i);
      if (s.rxTruncated(i)) c.truncated++;
      else if (len < ETH_HEADER_LEN) c.runts++;
      else this.receiver?.(s.rxSlots[i]!, len);
    }
  };

  send(frame: Uint8Array, len: number): void {
    if (this.closed) return;
    const s = this.socket;
    this.own.txFrames++;
    if (len > s.slotSize) {
      this.own.oversize++;
      return;
    }
    copyFrame(s.sendSlot(), 0, frame, len);
    s.commit(len, 0, 0);
  }

  setReceiver(receiver: FrameReceiver | null): void {
    this.receiver = receiver;
  }

  get counters(): PacketPortCounters {
    const n = this.socket.counters;
    const { rxFrames, txFrames, truncated, runts, oversize } = this.own;
    return {
      rxFrames,
      txFrames,
      truncated,
      runts,
      sendErrors: oversize + n.sendErrors,
      sendDropped: n.sendDropped,
      rxHolds: n.holds,
    };
  }

  /** Sends what is queued and closes the socket. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}

/** Adds `b` into `a` (an agent reports one sum over its packet ports). */
export function addPacketCounters(a: PacketPortCounters, b: PacketPortCounters): PacketPortCounters {
  return {
    rxFrames: a.rxFrames + b.rxFrames,
    txFrames: a.txFrames + b.txFrames,
    truncated: a.truncated + b.truncated,
    runts: a.runts + b.runts,
    sendErrors: a.sendErrors + b.sendErrors,
    sendDropped: a.sendDropped + b.sendDropped,
    rxHolds: a.rxHolds + b.rxHolds,
  };
}
