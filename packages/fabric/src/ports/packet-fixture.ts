// packet.test.ts runs this inside its namespace: `node packet-fixture.ts <from-if> <to-if> <count>` sends
// `count` numbered frames through a packet port on one end of a veth pair and reads them at the other end
// through a second packet port; prints {received, intact, ownEchoes} as JSON.
import { PacketPort } from "./packet.ts";

const [from = "", to = "", countArg = "0"] = process.argv.slice(2);
const count = Number(countArg);
const LEN = 100;

const frameOf = (n: number): Uint8Array => {
  const f = new Uint8Array(LEN);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]); // to 02::02 from 02::01, a local EtherType
  for (let i = 14; i < LEN; i++) f[i] = (n + i) & 0xff;
  new DataView(f.buffer).setUint32(14, n);
  return f;
};

const sender = new PacketPort("from", { interface: from });
const receiver = new PacketPort("to", { interface: to });
let ownEchoes = 0;
sender.setReceiver(() => ownEchoes++);
const seen = new Set<number>();
let intact = true;
receiver.setReceiver((frame, len) => {
  if (len < 18 || frame[12] !== 0x88 || frame[13] !== 0xb5) return; // not ours (the kernel's own chatter)
  const n = new DataView(frame.buffer, frame.byteOffset).getUint32(14);
  const expected = frameOf(n);
  if (len !== LEN || expected.some((b, i) => frame[i] !== b)) intact = false;
  seen.add(n);
});
for (let n = 0; n < count; n++) sender.send(frameOf(n), LEN);

const deadline = Date.now() + 5000;
const timer = setInterval(() => {
  if (seen.size < count && Date.now() < deadline) return;
  clearInterval(timer);
  sender.close();
  receiver.close();
  process.stdout.write(`${JSON.stringify({ received: seen.size, intact, ownEchoes })}\n`);
}, 20);
