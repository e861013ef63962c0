// The client's prober (runs in vm-c): one UDP datagram to <vip>:<port> every <interval> ms carrying a 32-bit
// sequence number, answered or not. It prints one line per probe sent (`S <seq> <ms>`) and one per answer
// (`A <seq> <ms> <name> <0|1>`), times on the wall clock with 0.1 ms resolution: the checker reads them live.
//   node prober.ts <vip> <port> <intervalMs>
import { createSocket } from "node:dgram";
import { performance } from "node:perf_hooks";

const [vip, port, interval] = process.argv.slice(2);
if (vip === undefined || port === undefined || interval === undefined) {
  process.stderr.write("usage: prober.ts <vip> <port> <intervalMs>\n");
  process.exit(2);
}
const now = (): string => (performance.timeOrigin + performance.now()).toFixed(1);
const socket = createSocket("udp4");
const probe = Buffer.alloc(16);
let seq = 0;
let out = "";
// Lines are batched per tick: one write per probe period, not one per line.
const flush = (): void => {
  if (out !== "") process.stdout.write(out);
  out = "";
};
socket.on("message", (msg) => {
  if (msg.length < 5) return;
  out += `A ${msg.readUInt32BE(0)} ${now()} ${msg.subarray(5).toString("utf8")}\n`;
});
socket.on("error", () => undefined); // unreachable while nobody holds the VIP: keep probing
socket.bind(0, () => {
  setInterval(() => {
    probe.writeUInt32BE(seq, 0);
    out += `S ${seq} ${now()}\n`;
    seq = (seq + 1) >>> 0;
    socket.send(probe, Number(port), vip, () => undefined);
    flush();
  }, Number(interval));
  process.stdout.write("probing\n");
});
process.on("SIGTERM", () => {
  flush();
  socket.close();
  process.exit(0);
});
