import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { test } from "node:test";
import { echoAnswer, startEchoService } from "./echo-service.ts";
import type { EchoAnswer } from "./echo-service.ts";

test("over TCP the echo service answers with the client's source address and port, then closes", async (t) => {
  const service = await startEchoService({ host: "127.0.0.1", port: 0 });
  t.after(() => service.close());
  const { port } = service.tcp.address() as AddressInfo;
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  const local = socket.localPort;
  let text = "";
  socket.setEncoding("utf8").on("data", (d: string) => (text += d));
  await new Promise((resolve) => socket.once("end", resolve));
  socket.destroy();
  assert.deepEqual(JSON.parse(text), { protocol: "tcp", address: "127.0.0.1", port: local });
  assert.ok(text.endsWith("\n") && text.split("\n").length === 2, "one line");
});

test("over UDP it answers each datagram, on the same port number as TCP", async (t) => {
  const service = await startEchoService({ host: "127.0.0.1", port: 0 });
  t.after(() => service.close());
  const tcpPort = (service.tcp.address() as AddressInfo).port;
  assert.equal(service.udp.address().port, tcpPort);
  const client = createSocket("udp4");
  t.after(() => client.close());
  await new Promise<void>((resolve) => client.bind(0, "127.0.0.1", resolve));
  const answers: EchoAnswer[] = [];
  const got = new Promise<void>((resolve) => {
    client.on("message", (m) => {
      answers.push(JSON.parse(m.toString()) as EchoAnswer);
      if (answers.length === 2) resolve();
    });
  });
  client.send("one", tcpPort, "127.0.0.1");
  client.send("two", tcpPort, "127.0.0.1");
  await got;
  const expected = { protocol: "udp", address: "127.0.0.1", port: client.address().port };
  assert.deepEqual(answers, [expected, expected]);
});

test("the answer is one line of JSON with an IPv4 address", () => {
  assert.equal(
    echoAnswer("tcp", "::ffff:198.51.100.7", 4000),
    '{"protocol":"tcp","address":"198.51.100.7","port":4000}\n',
  );
});
