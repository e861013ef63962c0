// TEST FIXTURE ONLY: builds a lab and keeps changing it until it is killed, so the crash suite can SIGKILL
// it mid-way and check that `labDown(stateDir)` still removes everything.
// Usage: node fixture-crash-lab.ts <stateDir> <prefix>
import { createLab } from "@havip/lab";

const [stateDir, prefix] = process.argv.slice(2);
if (stateDir === undefined || prefix === undefined) throw new Error("usage: fixture-crash-lab.ts <stateDir> <prefix>");

const lab = await createLab({ stateDir, prefix });
const vm = (name: string, i: number) => ({
  name,
  vni: 3000 + i,
  mac: `02:00:0a:00:01:${(0x10 + i).toString(16)}`,
  ip: `10.0.1.${10 + i}`,
  prefixLen: 24,
  gateway: "10.0.1.1",
});
await lab.attachInstance(vm("vm-a", 0));
await lab.attachInstance(vm("vm-b", 1));
await lab.startHttpService("vm-a");
await lab.startKeepalived("vm-a", {
  instances: [
    {
      name: "VI_1",
      version: 2,
      virtualRouterId: 9,
      priority: 100,
      advertInterval: 1,
      virtualAddresses: [{ address: "10.0.1.100", prefixLen: 24 }],
    },
  ],
});
// A process that ignores SIGTERM, and one in the fabric namespace, as the fabric will be.
lab.spawn("vm-b", "sh", ["-c", "trap '' TERM; while :; do sleep 1; done"], { label: "stubborn" });
lab.spawn("fabric", process.execPath, ["-e", "setInterval(() => {}, 1000)"], { label: "fabric-stand-in" });
process.stdout.write("ready\n");
// Keep working until killed: the kill lands in the middle of an attach or a detach.
for (let i = 2; ; i++) {
  await lab.attachInstance(vm(`vm-${i}`, i));
  process.stdout.write(`attached vm-${i}\n`);
  if (i % 3 === 0) await lab.detachInstance(`vm-${i - 1}`);
}
