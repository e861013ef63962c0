// The internet namespace's echo service: over TCP and UDP it answers with the source address and port it
// sees, as one line of JSON ({"protocol":"udp","address":"198.51.100.7","port":40000}), so a test can see
// the address an instance's traffic leaves the VPC with (an EIP, after NAT).
// As a program: node echo-service.ts [--host 0.0.0.0] [--port 7777]
// It prints {"listening": {...}} on stdout once both sockets are bound.
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { parseArgs } from "node:util";
import { plainIpv4 } from "./http-service.ts";

export interface EchoAnswer {
  protocol: "tcp" | "udp";
  address: string;
  port: number;
}

export function echoAnswer(protocol: "tcp" | "udp", address: string, port: number): string {
  const answer: EchoAnswer = { protocol, address: plainIpv4(address), port };
  return JSON.stringify(answer) + "\n";
}

export interface EchoService {
  tcp: Server;
  udp: Socket;
  close(): Promise<void>;
}

export async function startEchoService(options: { host?: string; port?: number } = {}): Promise<EchoService> {
  const host = options.host ?? "0.0.0.0";
  const port = options.port ?? 7777;
  const tcp = createServer((socket) => {
    socket.on("error", () => undefined); // a client that resets is not the service's problem
    socket.end(echoAnswer("tcp", socket.remoteAddress ?? "unknown", socket.remotePort ?? 0));
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const udp = createSocket("udp4");
  udp.on("message", (_message, from) => {
    udp.send(echoAnswer("udp", from.address, from.port), from.port, from.address);
  });
  // Port 0 means "any": let UDP take the port TCP got, so one number reaches both.
  const tcpAddress = tcp.address();
  const tcpPort = typeof tcpAddress === "object" && tcpAddress !== null ? tcpAddress.port : port;
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(tcpPort, host, () => {
      udp.off("error", reject);
      resolve();
    });
  });
  return {
    tcp,
    udp,
    close: async () => {
      await new Promise<void>((resolve) => {
        udp.close(() => {
          resolve();
        });
      });
      await new Promise<void>((resolve) => {
        tcp.close(() => {
          resolve();
        });
      });
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { host: { type: "string" }, port: { type: "string" } } });
  const service = await startEchoService({ host: values.host, port: Number(values.port ?? 7777) });
  process.stdout.write(
    JSON.stringify({ listening: { tcp: service.tcp.address(), udp: service.udp.address() } }) + "\n",
  );
}
