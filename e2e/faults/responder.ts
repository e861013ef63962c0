// A member's responder (runs in vm-a and vm-b): answers every datagram to <vip>:<port> from the VIP with its own
// name and whether eth0 has the VIP at that moment, so that every answer says WHO answered and whether it
// really held the address. Bound to the VIP even while it does not hold it (net.ipv4.ip_nonlocal_bind=1 in
// the namespace); the kernel delivers to it only while it does.
//   node responder.ts <name> <vip> <port>
import { createSocket } from "node:dgram";
import { networkInterfaces } from "node:os";

const [name, vip, port] = process.argv.slice(2);
if (name === undefined || vip === undefined || port === undefined) {
  process.stderr.write("usage: responder.ts <name> <vip> <port>\n");
  process.exit(2);
}

function hasVip(): boolean {
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some((a) => a.family === "IPv4" && a.address === vip),
  );
}

const socket = createSocket("udp4");
socket.on("message", (msg, from) => {
  // The probe's first 4 bytes are its sequence number: the answer carries it back, then "<name> <0|1>".
  const answer = Buffer.concat([msg.subarray(0, 4), Buffer.from(` ${name} ${hasVip() ? 1 : 0}`)]);
  socket.send(answer, from.port, from.address, () => undefined);
});
socket.on("error", () => undefined);
socket.bind(Number(port), vip, () => {
  process.stdout.write("listening\n");
});
process.on("SIGTERM", () => {
  socket.close();
  process.exit(0);
});
