// The lab's errors on a real machine: each failure is reported with its catalogue code and a message that
// says what to do, and a refused operation leaves nothing half-made.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createLab, findProgram, isLabError, labDown, openLab } from "@havip/lab";
import type { InstanceSpec, LabErrorCode } from "@havip/lab";
import { namespacesWithPrefix, removeDir, rootOnly, tempStateDir, testPrefix } from "./helpers.ts";

const PREFIX = testPrefix("hvt4");

async function rejectsWith(code: LabErrorCode, message: RegExp, action: () => unknown): Promise<void> {
  await assert.rejects(
    async () => {
      await action();
    },
    (e: unknown) => {
      assert.ok(isLabError(e), `a LabError, not ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      return true;
    },
  );
}

const vm = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
  name: "vm-a",
  vni: 4001,
  mac: "02:00:0a:00:02:0a",
  ip: "10.0.2.10",
  prefixLen: 24,
  gateway: "10.0.2.1",
  ...over,
});

test("lab errors", rootOnly("lab errors suite"), async (t) => {
  const stateDir = tempStateDir("errors");
  t.after(async () => {
    try {
      await labDown({ stateDir, prefix: PREFIX });
    } finally {
      removeDir(stateDir);
    }
  });

  await t.test("not root: says what needs root", { skip: findProgram("runuser") === undefined }, () => {
    const script = `import("@havip/lab").then((m) => m.createLab({ stateDir: ${JSON.stringify(stateDir + "/nobody")} }))
      .catch((e) => { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })); })`;
    const cwd = fileURLToPath(new URL(".", import.meta.url));
    const out = execFileSync("runuser", ["-u", "nobody", "--", process.execPath, "--input-type=module", "-e", script], {
      cwd,
      encoding: "utf8",
    });
    const error = JSON.parse(out) as { code: string; message: string };
    assert.equal(error.code, "Lab.NotRoot");
    assert.match(error.message, /needs root to create network namespaces.*EUID 65534/);
  });

  await t.test("a bad prefix is refused before anything is made", async () => {
    await rejectsWith("Lab.InvalidName", /prefix 'Bad_'/, () => createLab({ stateDir, prefix: "Bad_" }));
  });

  await t.test("a namespace name that is taken and not ours is refused", async () => {
    execFileSync("ip", ["netns", "add", `${PREFIX}fabric`]);
    try {
      await rejectsWith("Lab.NamespaceTaken", new RegExp(`${PREFIX}fabric already exists.*take that lab down`), () =>
        createLab({ stateDir, prefix: PREFIX }),
      );
      assert.deepEqual(namespacesWithPrefix(PREFIX), [`${PREFIX}fabric`], "nothing else was made");
    } finally {
      execFileSync("ip", ["netns", "delete", `${PREFIX}fabric`]);
    }
  });

  await t.test("no lab up: openLab says so", async () => {
    await rejectsWith("Lab.NotUp", /No lab is up/, () => openLab({ stateDir }));
  });

  const lab = await createLab({ stateDir, prefix: PREFIX });
  await lab.attachInstance(vm());

  await t.test("a second lab in the same state directory is refused; openLab finds the first", async () => {
    await rejectsWith("Lab.AlreadyUp", /already up/, () => createLab({ stateDir, prefix: PREFIX }));
    const opened = openLab({ stateDir });
    assert.deepEqual(
      opened.instances().map((i) => i.name),
      ["vm-a"],
    );
  });

  await t.test("bad instance names, duplicates and bad parameters are refused", async () => {
    await rejectsWith("Lab.InvalidName", /Instance name 'VM A'/, () => lab.attachInstance(vm({ name: "VM A" })));
    await rejectsWith("Lab.InvalidName", /reserved/, () => lab.attachInstance(vm({ name: "fabric" })));
    await rejectsWith("Lab.InstanceExists", /vm-a/, () => lab.attachInstance(vm({ vni: 4009 })));
    await rejectsWith("Lab.InvalidParameter", /VNI 4001 is already used by vm-a/, () =>
      lab.attachInstance(vm({ name: "vm-b" })),
    );
    await rejectsWith("Lab.InvalidParameter", /not a unicast MAC/, () =>
      lab.attachInstance(vm({ name: "vm-b", vni: 4002, mac: "01:00:5e:00:00:01" })),
    );
    await rejectsWith("Lab.InvalidParameter", /gateway 10\.9\.9\.1 is outside 10\.0\.2\.11\/24/, () =>
      lab.attachInstance(vm({ name: "vm-b", vni: 4002, ip: "10.0.2.11", gateway: "10.9.9.1" })),
    );
    await rejectsWith("Lab.InvalidParameter", /MTU must be an integer from 68 to 9000/, () =>
      lab.attachInstance(vm({ name: "vm-b", vni: 4002, mtu: 9001 })),
    );
    await rejectsWith("Lab.InvalidParameter", /VNI must be/, () =>
      lab.attachInstance(vm({ name: "vm-b", vni: 2 ** 24 })),
    );
    assert.deepEqual(namespacesWithPrefix(PREFIX).sort(), [`${PREFIX}fabric`, `${PREFIX}underlay`, `${PREFIX}vm-a`]);
  });

  await t.test("an instance whose namespace is taken by someone else is refused", async () => {
    execFileSync("ip", ["netns", "add", `${PREFIX}vm-x`]);
    try {
      await rejectsWith("Lab.NamespaceTaken", new RegExp(`${PREFIX}vm-x`), () =>
        lab.attachInstance(vm({ name: "vm-x", vni: 4003 })),
      );
      assert.equal(
        lab.state.namespaces.some((n) => n.name === `${PREFIX}vm-x`),
        false,
        "not recorded as ours",
      );
    } finally {
      execFileSync("ip", ["netns", "delete", `${PREFIX}vm-x`]);
    }
  });

  await t.test("unknown instances, failing commands and double starts are reported clearly", async () => {
    await rejectsWith("Lab.UnknownInstance", /no instance 'vm-z' \(it has: fabric, underlay, vm-a\)/, () =>
      lab.exec("vm-z", "true"),
    );
    await rejectsWith(
      "Lab.CommandFailed",
      new RegExp(
        `ip netns exec ${PREFIX}vm-a \\S*ip link show dev nope exited with code 1: Device "nope" does not exist`,
      ),
      () => lab.exec("vm-a", "ip", ["link", "show", "dev", "nope"]),
    );
    await rejectsWith("Lab.CommandTimedOut", /sleep 5 did not finish within 200 ms/, () =>
      lab.exec("vm-a", "sleep", ["5"], { timeoutMs: 200 }),
    );
    await lab.startHttpService("vm-a");
    await rejectsWith("Lab.InvalidParameter", /http-service is already running in vm-a/, () =>
      lab.startHttpService("vm-a"),
    );
    const broken = lab.spawn("vm-a", process.execPath, ["-e", "syntax error here("], { label: "broken" });
    await rejectsWith("Lab.ProcessFailed", /exited before it printed.*SyntaxError/s, () =>
      broken.waitForLog(/never printed/, 5000),
    );
  });

  await t.test("keepalived settings are checked before keepalived runs", async () => {
    await rejectsWith("Lab.InvalidParameter", /advert_int \(VRRPv2, seconds\) must be an integer/, () =>
      lab.startKeepalived("vm-a", {
        instances: [
          { name: "VI_1", version: 2, virtualRouterId: 1, priority: 100, advertInterval: 0.5, virtualAddresses: [] },
        ],
      }),
    );
    assert.equal(lab.processes().filter((p) => p.label === "keepalived").length, 0);
  });

  await lab.down();
});
