// A tiny HTTP service for lab instances. It answers every request with one line: the instance's name and the
// local address the request arrived on ("vm-a 10.0.0.100"), so a client sees which instance holds a HAVIP.
// As a program: node http-service.ts --name vm-a [--host 0.0.0.0] [--port 80]
// It prints {"listening": {...}} on stdout once it accepts connections.
import { createServer } from "node:http";
import type { Server } from "node:http";
import { parseArgs } from "node:util";

export interface HttpServiceOptions {
  name: string;
  host?: string;
  port?: number;
}

export function httpAnswer(name: string, localAddress: string | undefined): string {
  return `${name} ${plainIpv4(localAddress ?? "unknown")}\n`;
}

/** An IPv4 address as IPv4, also when it arrives as an IPv4-mapped IPv6 address. */
export function plainIpv4(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export function startHttpService(options: HttpServiceOptions): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    // One connection per request: after a failover the next request reaches the new holder, not the old one.
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    response.end(httpAnswer(options.name, request.socket.localAddress));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 80, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { name: { type: "string" }, host: { type: "string" }, port: { type: "string" } },
  });
  if (values.name === undefined) {
    process.stderr.write("usage: http-service.ts --name <instance> [--host 0.0.0.0] [--port 80]\n");
    process.exit(2);
  }
  const server = await startHttpService({ name: values.name, host: values.host, port: Number(values.port ?? 80) });
  process.stdout.write(JSON.stringify({ listening: server.address() }) + "\n");
}
