// The fabric agent as a program: `node main.ts --socket /run/havip/fabric.sock --vxlan 169.254.77.1:4789`
// [--io auto|dgram|batch] (how VXLAN datagrams move; auto: batched recvmmsg/sendmmsg when the addon is built).
// Started inside the fabric's network namespace (`ip netns exec …`); havipd drives it with --fabric-agent.
// Prints one JSON line when ready; SIGINT or SIGTERM closes it.
import { parseArgs } from "node:util";
import { parseListenAddress } from "../listen-address.ts";
import { startFabricAgent } from "./fabric-agent.ts";

function fail(message: string): never {
  process.stderr.write(`fabric agent: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: { socket: { type: "string" }, vxlan: { type: "string" }, io: { type: "string", default: "auto" } },
  strict: true,
});
if (values.socket === undefined || !values.socket.startsWith("/")) fail("--socket /abs/path.sock is required");
let vxlan: { host: string; port: number } | null = null;
if (values.vxlan !== undefined) {
  const parsed = parseListenAddress(values.vxlan);
  if ("error" in parsed || parsed.path !== undefined) fail(`--vxlan expects HOST:PORT, got "${values.vxlan}"`);
  vxlan = parsed;
}
const io = values.io;
if (io !== "auto" && io !== "dgram" && io !== "batch") fail(`--io expects auto, dgram or batch, got "${io}"`);
const onWarning = (message: string) => {
  process.stderr.write(`fabric agent: ${message}\n`);
};
const agent = await startFabricAgent({ socketPath: values.socket, vxlan, io, onWarning }).catch((e: unknown) =>
  fail(e instanceof Error ? e.message : String(e)),
);
process.stdout.write(`${JSON.stringify({ ready: true, socket: values.socket, vxlan: agent.vxlan, io: agent.io })}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void agent.close().then(() => process.exit(0));
  });
}
