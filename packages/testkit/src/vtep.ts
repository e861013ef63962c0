// A VXLAN peer on loopback standing in for an instance's kernel VXLAN device: it sends an instance's frames to
// a fabric's VXLAN port with the instance's VNI, and keeps what the fabric sends back.
import dgram from "node:dgram";
import { VXLAN_HEADER_LEN, readVni, writeVxlanHeader } from "@havip/wire";

export class Vtep {
  readonly socket = dgram.createSocket("udp4");
  readonly received: { vni: number; frame: Uint8Array }[] = [];
  port = 0;

  /** Binds a free port on 127.0.0.1. */
  async open(): Promise<this> {
    this.socket.on("message", (msg) => {
      this.received.push({ vni: readVni(msg, 0), frame: new Uint8Array(msg.subarray(VXLAN_HEADER_LEN)) });
    });
    await new Promise<void>((resolve) => {
      this.socket.bind(0, "127.0.0.1", resolve);
    });
    this.port = this.socket.address().port;
    return this;
  }

  /** Sends `frame` with VNI `vni` to 127.0.0.1:`to`. */
  send(to: number, vni: number, frame: Uint8Array): void {
    const buf = new Uint8Array(VXLAN_HEADER_LEN + frame.length);
    writeVxlanHeader(buf, 0, vni);
    buf.set(frame, VXLAN_HEADER_LEN);
    this.socket.send(buf, to, "127.0.0.1");
  }

  close(): Promise<void> {
    return new Promise((resolve) =>
      this.socket.close(() => {
        resolve();
      }),
    );
  }
}
