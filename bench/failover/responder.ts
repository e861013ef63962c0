// A parent's responder (runs in vm-a and vm-b): echoes every datagram to <vip>:<port> back from the VIP, so a
// reply's source MAC names the holder that answered. Bound to the VIP even while this parent does not hold it
// (the caller sets net.ipv4.ip_nonlocal_bind in the namespace); the kernel delivers to it only while it does.
//   node responder.ts <vip> <port>
import { createSocket } from "node:dgram";

const [vip, port] = process.argv.slice(2);
const socket = createSocket("udp4");
socket.on("message", (msg, from) => {
  socket.send(msg, from.port, from.address, () => undefined);
});
socket.on("error", () => undefined);
socket.bind(Number(port), vip, () => {
  process.stdout.write("listening\n");
});
process.on("SIGTERM", () => {
  socket.close();
  process.exit(0);
});
