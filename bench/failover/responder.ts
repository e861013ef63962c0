// A parent's responder (runs in vm-a and vm-b): echoes every datagram to <vip>:<port> back from the VIP, so a
// reply's source MAC names the holder that answered. Bound to the VIP even while this parent does not hold it
// (the caller sets net.ipv4.ip_nonlocal_bind in the namespace); the kernel delivers to it only while it does.
//   node responder.ts <vip> <port>
// Before it binds, it echoes a few hundred datagrams over loopback with the same code, so that the first reply
// after a failover is not also Node's first dgram send (lazy module loading, V8's first compile: a millisecond
// or more, which the benchmark would charge to the platform on both systems).
import { setCpuSlice } from "@havip/fabric";
import { createSocket, type Socket } from "node:dgram";

const WARM_UP_ECHOES = 300;
const [vip, port] = process.argv.slice(2);
// Like the prober: a short scheduler slice, so that an echo does not wait behind another process's slice.
const slice = setCpuSlice(100);

function echo(socket: Socket): void {
  socket.on("message", (msg, from) => {
    socket.send(msg, from.port, from.address, () => undefined);
  });
}

async function warmUp(): Promise<void> {
  const echoer = createSocket("udp4");
  const client = createSocket("udp4");
  echo(echoer);
  await new Promise<void>((resolve) => echoer.bind(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => client.bind(0, "127.0.0.1", resolve));
  const probe = Buffer.alloc(32);
  for (let i = 0; i < WARM_UP_ECHOES; i++) {
    const answered = new Promise<void>((resolve) =>
      client.once("message", () => {
        resolve();
      }),
    );
    client.send(probe, echoer.address().port, "127.0.0.1");
    await Promise.race([answered, new Promise<void>((resolve) => setTimeout(resolve, 100))]);
  }
  echoer.close();
  client.close();
}

await warmUp();
const socket = createSocket("udp4");
echo(socket);
socket.on("error", () => undefined);
socket.bind(Number(port), vip, () => {
  process.stdout.write(`listening (cpu slice: ${slice.ok ? `${slice.sliceUs} µs` : slice.reason})\n`);
});
process.on("SIGTERM", () => {
  socket.close();
  process.exit(0);
});
