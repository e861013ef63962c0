import assert from "node:assert/strict";
import dgram from "node:dgram";
import { once } from "node:events";
import { createServer } from "node:net";
import { it } from "node:test";
import { freePort } from "./free-port.ts";

it("freePort answers a loopback port that a server can then listen on", async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, String(port));
  const server = createServer().listen(port, "127.0.0.1");
  await once(server, "listening");
  server.close();
  await once(server, "close");
});

it("freePort('udp4') answers a loopback port that a UDP socket can then bind", async () => {
  const port = await freePort("udp4");
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, String(port));
  const socket = dgram.createSocket("udp4");
  socket.bind(port, "127.0.0.1");
  await once(socket, "listening");
  assert.equal(socket.address().port, port);
  socket.close();
  await once(socket, "close");
});
