// A loopback TCP port for a test or benchmark to hand to a server it starts (havipd, PostgreSQL).
import { once } from "node:events";
import { createServer } from "node:net";

/** A port on 127.0.0.1 that was free a moment ago (the kernel picks it; it is closed and handed on). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address !== "object") throw new Error("no free port");
  return address.port;
}
