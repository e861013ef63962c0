// TEST FIXTURE ONLY — not the fabric. A dumb VXLAN hub for the lab's end-to-end tests, run inside the
// fabric namespace with `ip netns exec <fabric-ns> node fixture-l2-relay.ts <address> <port>`.
// It receives VXLAN-in-UDP and forwards every inner frame, unchanged, to every OTHER attached endpoint
// (address, port, VNI), rewriting only the VNI. Endpoints are attached by lines of JSON on stdin:
//   {"attach": {"address": "169.254.77.2", "port": 4789, "vni": 101}}
//   {"detach": {"address": "169.254.77.2", "port": 4789, "vni": 101}}
// It prints {"ready": true} once bound and {"attached": …}/{"detached": …} after each command, and
// counts frames so a test can see that traffic really crossed it.
import { createSocket } from "node:dgram";
import { createInterface } from "node:readline";

interface Endpoint {
  address: string;
  port: number;
  vni: number;
}

const VXLAN_HEADER = 8;
const VXLAN_FLAG_VNI = 0x08;

const [address = "169.254.77.1", portText = "4789"] = process.argv.slice(2);
const endpoints = new Map<string, Endpoint>();
const key = (e: Endpoint): string => `${e.address}|${e.port}|${e.vni}`;
let relayed = 0;
let ignored = 0;

const socket = createSocket("udp4");
socket.on("message", (packet, from) => {
  if (packet.length < VXLAN_HEADER + 14 || (packet[0]! & VXLAN_FLAG_VNI) === 0) {
    ignored++;
    return;
  }
  const vni = packet.readUIntBE(4, 3);
  const source = key({ address: from.address, port: from.port, vni });
  if (!endpoints.has(source)) {
    ignored++;
    return;
  }
  for (const [k, target] of endpoints) {
    if (k === source) continue;
    const out = Buffer.from(packet);
    out.writeUIntBE(target.vni, 4, 3);
    socket.send(out, target.port, target.address);
    relayed++;
  }
});
socket.on("error", (err) => {
  process.stderr.write(`relay: ${err.message}\n`);
  process.exit(1);
});
socket.bind(Number(portText), address, () => {
  process.stdout.write(JSON.stringify({ ready: true, address, port: Number(portText) }) + "\n");
});

function isEndpoint(v: unknown): v is Endpoint {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.address === "string" && typeof e.port === "number" && typeof e.vni === "number";
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line) as Record<string, unknown>;
  if (isEndpoint(command.attach)) {
    endpoints.set(key(command.attach), command.attach);
    process.stdout.write(JSON.stringify({ attached: command.attach }) + "\n");
  } else if (isEndpoint(command.detach)) {
    endpoints.delete(key(command.detach));
    process.stdout.write(JSON.stringify({ detached: command.detach }) + "\n");
  } else if (command.stats === true) {
    process.stdout.write(JSON.stringify({ stats: { relayed, ignored, endpoints: endpoints.size } }) + "\n");
  }
});
// Stdin closing means the test is gone: exit rather than linger in the namespace.
process.stdin.on("end", () => process.exit(0));
