// The client's prober (runs in vm-c): one UDP datagram to <vip>:<port> every <interval> ms, carrying a 32-bit
// sequence number, whether or not anything answers (ping slows to one probe per 10 ms while replies are
// missing, which hides the moment service resumes). Replies are read and dropped: the capture is what counts.
//   node prober.ts <vip> <port> <intervalMs>
import { setCpuSlice } from "@havip/fabric";
import { createSocket } from "node:dgram";

const [vip, port, interval] = process.argv.slice(2);
// A latency-sensitive client asks for a short scheduler slice, so that its timer is not served a millisecond
// late behind another process (same on every system; see the README).
const slice = setCpuSlice(100);
const socket = createSocket("udp4");
const probe = Buffer.alloc(32);
let seq = 0;
socket.on("message", () => undefined);
socket.on("error", () => undefined); // unreachable while nobody holds the VIP: keep probing
socket.bind(0, () => {
  setInterval(() => {
    probe.writeUInt32BE(seq, 0);
    seq = (seq + 1) >>> 0;
    socket.send(probe, Number(port), vip, () => undefined);
  }, Number(interval));
  process.stdout.write(`probing (cpu slice: ${slice.ok ? `${slice.sliceUs} µs` : slice.reason})\n`);
});
process.on("SIGTERM", () => {
  socket.close();
  process.exit(0);
});
