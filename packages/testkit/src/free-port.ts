// A loopback port for a test or benchmark to hand to a server it starts (havipd, PostgreSQL, a fabric's VXLAN
// port set).
import dgram from "node:dgram";
import { once } from "node:events";
import { createServer } from "node:net";

/**
 * A port on 127.0.0.1 that was free a moment ago, for TCP (the default) or UDP (the kernel picks it; it is
 * closed and handed on).
 */
export async function freePort(protocol: "tcp" | "udp4" = "tcp"): Promise<number> {
  if (protocol === "udp4") {
    const socket = dgram.createSocket("udp4");
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const { port } = socket.address();
    socket.close();
    await once(socket, "close");
    return port;
  }
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address !== "object") throw new Error("no free port");
  return address.port;
}
